"""The evaluation engine: one protocol (splitter) x datasets x pipelines.

For each dataset the engine

1. asks the results store what is already done and skips it: a fold is stored
   under (dataset, evaluation, context, subject's data version, pipeline key,
   subject, session, fold) (:func:`neurodec.evaluation.identity.run_context`),
   so a re-run with other pipelines or other subjects computes only what is
   missing;
2. loads the epochs of the subjects still needed, once
   (:func:`neurodec.evaluation.data.load_epochs`), shared by every pipeline,
   fold and evaluation of the process (also as one ``mne.Epochs`` when a pipeline
   takes epochs, MOABB's ``SSVEP_*`` classifiers: it gets ``epochs[fold]`` and the
   labels unencoded, as ``moabb.benchmark`` runs them,
   :mod:`neurodec.evaluation.epochs_input`);
3. computes the stateless head of each pipeline (e.g. covariance matrices) once
   for all trials and shares it between folds and between pipelines with the
   same head (:mod:`neurodec.evaluation.features`), and fits the fitted steps
   that several pipelines start with (e.g. the tangent space of TS+LR and
   TS+SVM) once per fold (:func:`plan_shared_prefixes`);
4. fans the (pipeline, fold) tasks out through joblib (or Dask via joblib), each
   with a single BLAS thread (parallelism is across tasks), and
   appends each task's rows to the store as soon as it finishes.

Scores follow MOABB: labels encoded on the training fold, the pipeline fitted
on the training fold, scored with a scikit-learn scorer on the test fold (per
test session for cross-subject). Steps with ``requires_domains = True`` get the
per-trial domain ids (``"subject/session"``) at fit as ``<step>__domains``, and
at prediction time each test domain is predicted on its own, so every domain is
re-centred with its own statistics and no test label is used. Steps with
``requires_info = True`` (sensor-aware models: :class:`neurodec.deep.LUNAClassifier`,
:class:`neurodec.models.FoundationClassifier`)
get the epochs' ``mne.Info`` at fit as ``<step>__info``: the arrays carry no channel
names or positions (:func:`neurodec.evaluation.data.epochs_info`).
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.metaestimators import available_if
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from neurodec.errors import InvalidInputError
from neurodec.evaluation.backends import parallel_backend
from neurodec.evaluation.data import data_versions, epochs_info, load_epochs, paradigm_description
from neurodec.evaluation.epochs_input import needs_epochs, take
from neurodec.evaluation.features import split_stateless_head
from neurodec.evaluation.identity import content_hash, pipeline_key, run_context
from neurodec.evaluation.metrics import default_metric_name, get_metric
from neurodec.evaluation.procs import run_tempdir, terminate_gracefully
from neurodec.evaluation.splitters import Fold
from neurodec.evaluation.store import ResultsStore

__all__ = [
    "run_protocol",
    "domain_steps",
    "domain_fit_params",
    "trial_domains",
    "info_steps",
    "DomainwisePredictor",
    "plan_shared_prefixes",
    "task_id",
    "stored_tasks",
    "check_pipelines",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- domains
def domain_steps(estimator: Any) -> list[str | None]:
    """Names of the steps that take per-trial ``domains`` (``None``: the
    estimator itself does)."""
    if isinstance(estimator, GridSearchCV):
        return domain_steps(estimator.estimator)
    if isinstance(estimator, Pipeline):
        return [n for n, s in estimator.steps if getattr(s, "requires_domains", False)]
    return [None] if getattr(estimator, "requires_domains", False) else []


def info_steps(estimator: Any) -> list[str | None]:
    """Names of the steps that take the epochs' ``info`` at fit (``None``: the
    estimator itself does): those with class attribute ``requires_info = True``."""
    if isinstance(estimator, GridSearchCV):
        return info_steps(estimator.estimator)
    if isinstance(estimator, Pipeline):
        return [n for n, s in estimator.steps if getattr(s, "requires_info", False)]
    return [None] if getattr(estimator, "requires_info", False) else []


def _info_fit_params(names: list[str | None], info: Any) -> dict:
    return {("info" if n is None else f"{n}__info"): info for n in names}


def domain_fit_params(names: list[str | None], domains: np.ndarray) -> dict:
    """The fit parameters giving ``domains`` to the steps ``names`` (:func:`domain_steps`)."""
    return {("domains" if n is None else f"{n}__domains"): domains for n in names}


def trial_domains(meta: pd.DataFrame) -> np.ndarray:
    """Each trial's domain id, ``"subject/session"``: what steps with ``requires_domains`` get."""
    return (meta["subject"].astype(str) + "/" + meta["session"].astype(str)).to_numpy()


def _has(method: str):
    return lambda self: hasattr(self.estimator, method)


class DomainwisePredictor(ClassifierMixin, BaseEstimator):
    """A fitted estimator whose predictions are made one test domain at a time.

    Parameters
    ----------
    estimator : fitted estimator
    domains : ndarray, shape (n_test,)
        Domain id of each test trial, in the order of the ``X`` it will see.
    """

    def __init__(self, estimator: Any, domains: np.ndarray) -> None:
        self.estimator = estimator
        self.domains = domains

    @property
    def classes_(self) -> np.ndarray:
        return self.estimator.classes_

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def _per_domain(self, method: str, X: np.ndarray) -> np.ndarray:
        out = None
        for dom in pd.unique(self.domains):
            pos = np.flatnonzero(self.domains == dom)
            part = np.asarray(getattr(self.estimator, method)(X[pos]))
            if out is None:
                out = np.empty((len(X),) + part.shape[1:], dtype=part.dtype)
            out[pos] = part
        return out

    def fit(self, X, y=None):  # pragma: no cover - already fitted
        return self

    @available_if(_has("predict"))
    def predict(self, X):
        return self._per_domain("predict", X)

    @available_if(_has("predict_proba"))
    def predict_proba(self, X):
        return self._per_domain("predict_proba", X)

    @available_if(_has("decision_function"))
    def decision_function(self, X):
        return self._per_domain("decision_function", X)


# --------------------------------------------------------------------------- one task
def _fit_and_score_shared(
    features: np.ndarray,
    y: np.ndarray,
    domains: np.ndarray,
    prefix: list[tuple[str, Any]] | None,
    members: list[tuple[str, Any, dict | None]],
    train: np.ndarray,
    groups: list[tuple[np.ndarray, int, str]],
    metric: str,
    random_state: int | None,
    info: Any = None,
    raw_labels: bool = False,
) -> dict[str, list[dict]]:
    """Fit a shared fitted ``prefix`` once on ``train``, then each member's tail.

    The prefix is fitted and applied exactly as a Pipeline would (``fit_transform``
    on the training fold, ``transform`` on the test fold), so each member scores as
    the whole pipeline would. ``info`` (the epochs' ``mne.Info``) goes to the steps
    with ``requires_info``. Returns the rows of each member, by name.
    ``features`` is an array or an ``mne.Epochs``; ``raw_labels``: fit and score on the
    labels as they are (MOABB's ``mne_labels=True``) instead of encoded ones.
    """
    le = LabelEncoder().fit(y[train])
    encode = (lambda labels: labels) if raw_labels else le.transform
    y_train = encode(y[train])
    scorer = get_metric(metric)
    X_train = take(features, train)
    tests = [take(features, pos) for pos, _, _ in groups]
    prefix_fit = 0.0
    prefix_predict = [0.0] * len(groups)
    if prefix:
        pre = Pipeline([(n, clone(s)) for n, s in prefix])
        t0 = perf_counter()
        X_train = pre.fit_transform(X_train, y_train)
        prefix_fit = perf_counter() - t0
        for i, X_test in enumerate(tests):
            t0 = perf_counter()
            tests[i] = pre.transform(X_test)
            prefix_predict[i] = perf_counter() - t0
    out: dict[str, list[dict]] = {}
    for name, estimator, grid in members:
        model = clone(estimator)
        if grid:
            inner = StratifiedKFold(3, shuffle=True, random_state=random_state)
            model = GridSearchCV(model, grid, cv=inner, scoring=scorer, refit=True, n_jobs=1)
        names = domain_steps(model)
        fit_params = domain_fit_params(names, domains[train]) if names else {}
        fit_params.update(_info_fit_params(info_steps(model), info))
        t0 = perf_counter()
        model.fit(X_train, y_train, **fit_params)
        fit_time = prefix_fit + perf_counter() - t0
        rows = []
        for (pos, subject, session), X_test, pre_t in zip(groups, tests, prefix_predict):
            y_test = encode(y[pos])
            scored = DomainwisePredictor(model, domains[pos]) if names else model
            t0 = perf_counter()
            score = float(scorer(scored, X_test, y_test))
            rows.append(
                {
                    "subject": int(subject),
                    "session": str(session),
                    "score": score,
                    "time": fit_time,
                    "predict_time": pre_t + perf_counter() - t0,
                    "n_train": int(len(train)),
                    "n_test": int(len(pos)),
                    "n_classes": int(len(np.unique(y_test))),
                }
            )
        out[name] = rows
    return out


def plan_shared_prefixes(rests: Mapping[str, tuple[str | None, Any]]) -> list[tuple[list | None, dict]]:
    """Group pipelines whose fitted steps start the same way.

    Parameters
    ----------
    rests : dict name -> (head_key, rest)
        Each pipeline's shared-head key and remaining estimator; only pipelines
        eligible for sharing (no grid, no domain steps) should be given.

    Returns
    -------
    list of (prefix, tails)
        ``prefix``: the common fitted steps (``None`` for a pipeline alone) and
        ``tails``: name -> the estimator fitted after it.
    """
    buckets: dict[tuple, list[str]] = defaultdict(list)
    plans: list[tuple[list | None, dict]] = []
    for name, (head_key, rest) in rests.items():
        if isinstance(rest, Pipeline) and len(rest.steps) >= 2:
            buckets[(head_key, content_hash([rest.steps[0]]))].append(name)
        else:
            plans.append((None, {name: rest}))
    for names in buckets.values():
        if len(names) == 1:
            plans.append((None, {names[0]: rests[names[0]][1]}))
            continue
        steps = [rests[n][1].steps for n in names]
        limit = min(len(st) for st in steps) - 1
        length = 0
        while length < limit and len({content_hash([st[length]]) for st in steps}) == 1:
            length += 1
        prefix = list(steps[0][:length])
        tails = {
            n: Pipeline(st[length:]) if len(st) - length > 1 else st[-1][1] for n, st in zip(names, steps)
        }
        plans.append((prefix, tails))
    return plans


def _score_groups(fold: Fold, metadata: pd.DataFrame) -> list[tuple[np.ndarray, int, str]]:
    if fold.session:
        return [(fold.test, fold.subject, fold.session)]
    subj = metadata["subject"].to_numpy()[fold.test]
    sess = metadata["session"].astype(str).to_numpy()[fold.test]
    groups = []
    for s in pd.unique(subj):
        for se in np.unique(sess[subj == s]):
            groups.append((fold.test[(subj == s) & (sess == se)], int(s), str(se)))
    return groups


def check_pipelines(pipelines: Any, param_grid: Mapping[str, dict] | None = None) -> None:
    """Refuse anything but a non-empty dict of name -> scikit-learn estimator, and grids of unknown names.

    Raises
    ------
    InvalidInputError
        Not a non-empty mapping; a value that is not an estimator; a ``param_grid``
        key that names no pipeline.
    """
    if not isinstance(pipelines, Mapping) or not pipelines:
        raise InvalidInputError("pipelines must be a non-empty dict of name -> estimator")
    for name, est in pipelines.items():
        if not isinstance(est, BaseEstimator):
            raise InvalidInputError(
                f"pipeline {name!r} is a {type(est).__name__}, not a scikit-learn estimator"
            )
    unknown = set(param_grid or {}) - set(pipelines)
    if unknown:
        raise InvalidInputError(f"param_grid names unknown pipeline(s) {sorted(unknown)}")


def task_id(fold: Fold) -> str:
    """The store's ``task`` of a fold: ``subject|session|fold``."""
    return f"{fold.subject}|{fold.session}|{fold.fold}"


def stored_tasks(
    store: ResultsStore,
    code: str,
    evaluation: str,
    context: str,
    versions: Mapping[int, str],
    per_subject: bool,
) -> set[tuple[str, str]]:
    """``{(pipeline_key, task)}`` already stored: for per-subject protocols only the
    tasks computed on the subject's current data version."""
    stored = store.done_tasks(code, evaluation, context)
    if per_subject:  # a subject's folds are done on its current data only
        return {(k, t) for k, t, v in stored if v == versions.get(int(t.split("|")[0]))}
    return {(k, t) for k, t, _ in stored}  # the context pins every subject's data


# --------------------------------------------------------------------------- protocol
def run_protocol(
    *,
    evaluation: str,
    splitter: Any,
    per_subject: bool,
    paradigm: Any,
    datasets: Sequence[Any],
    pipelines: Mapping[str, Any],
    store: ResultsStore,
    metric: str | None = None,
    param_grid: Mapping[str, dict] | None = None,
    random_state: int | None = None,
    n_jobs: int = 1,
    backend: str = "loky",
    scheduler: Any = None,
    overwrite: bool = False,
    progress: bool = True,
    options: Mapping[str, Any] | None = None,
    runner: Callable[..., None] | None = None,
) -> pd.DataFrame:
    """Run one protocol and return its per-fold rows (from the store).

    Parameters
    ----------
    evaluation : str
        Protocol name stored in the ``evaluation`` column.
    splitter : splitter with ``iter_folds(y, metadata)``
    per_subject : bool
        True when each subject's folds use only that subject's data (within-
        and cross-session): subjects whose work is done are not even loaded.
    paradigm, datasets, pipelines, store, metric, param_grid, random_state,
    n_jobs, backend, scheduler, overwrite, progress
        As in :class:`neurodec.evaluation.WithinSessionEvaluation`.
    options : dict | None
        Other protocol settings that change the scores; part of the run context.
    runner : callable | None
        Computes and stores the pending folds of one dataset, called with the keyword
        arguments of the default (``_run_dataset``: shared epochs, heads and prefixes);
        a protocol that scores otherwise (the pseudo-online replay,
        :mod:`neurodec.online.evaluation`) gives its own and keeps this function's
        bookkeeping (contexts, data versions, resuming, overwrite).
    """
    param_grid = dict(param_grid or {})
    keys = {name: pipeline_key(name, est, param_grid.get(name)) for name, est in pipelines.items()}
    out = []
    for dataset in datasets:
        code = str(dataset.code)
        metric_name = metric or default_metric_name(paradigm, _n_classes(paradigm, dataset))
        subjects = [int(s) for s in dataset.subject_list]
        versions = data_versions(dataset, subjects)
        # across-subject protocols train on the others: the subjects and their data are the context
        context, description = run_context(
            evaluation=evaluation,
            splitter=splitter,
            paradigm=paradigm_description(paradigm),
            seed=random_state,
            metric=metric_name,
            cohort=None if per_subject else versions,
            options=options,
        )
        store.register_context(context, description)
        store.record_data_versions(code, versions)
        if overwrite:
            store.delete(code, evaluation, context, keys.values(), versions if per_subject else None)
        completed = store.completed(code, evaluation, context)
        if per_subject:
            pending = [
                s for s in subjects if any((k, s, versions[s]) not in completed for k in keys.values())
            ]
        else:
            pending = subjects if any((k, -1, "") not in completed for k in keys.values()) else []
        if pending:
            (runner or _run_dataset)(
                dataset=dataset,
                code=code,
                evaluation=evaluation,
                context=context,
                versions=versions,
                splitter=splitter,
                per_subject=per_subject,
                paradigm=paradigm,
                subjects=pending,
                pipelines=pipelines,
                keys=keys,
                store=store,
                metric_name=metric_name,
                param_grid=param_grid,
                random_state=random_state,
                n_jobs=n_jobs,
                backend=backend,
                scheduler=scheduler,
                progress=progress,
            )
        else:
            log.info("%s %s: every result already stored", code, evaluation)
        rows = store.to_frame(dataset=code, evaluation=evaluation, context=context)
        keep = rows["pipeline_key"].isin(list(keys.values()))
        if per_subject:  # this run's subjects, on their current data
            keep &= rows["data_version"] == rows["subject"].map(versions)
        out.append(rows[keep])
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def _n_classes(paradigm: Any, dataset: Any) -> int | None:
    n = getattr(paradigm, "n_classes", None)
    if isinstance(n, int) and n > 0:
        return n
    try:
        events = getattr(paradigm, "events", None) or paradigm.used_events(dataset)
    except Exception:  # noqa: BLE001 - only a default metric depends on it
        events = None
    return len(events) if events else None


def _run_dataset(
    *,
    dataset,
    code,
    evaluation,
    context,
    versions,
    splitter,
    per_subject,
    paradigm,
    subjects,
    pipelines,
    keys,
    store,
    metric_name,
    param_grid,
    random_state,
    n_jobs,
    backend,
    scheduler,
    progress,
) -> None:
    with_epochs = {name for name, est in pipelines.items() if needs_epochs(est)}
    data = load_epochs(paradigm, dataset, subjects, epochs=bool(with_epochs))
    meta = data.metadata
    domains = trial_domains(meta)
    folds = list(splitter.iter_folds(data.y, meta))
    done = stored_tasks(store, code, evaluation, context, versions, per_subject)
    n_channels = int(data.X.shape[1]) if data.X.ndim >= 2 else 0

    heads, alone, eligible = {}, {}, {}
    for name, est in pipelines.items():
        grid = param_grid.get(name)
        if name in with_epochs:  # the pipeline gets the epochs whole, on its own
            if grid:
                raise InvalidInputError(
                    f"pipeline {name!r} takes mne.Epochs, which a grid search cannot split; "
                    "drop its param_grid or make one pipeline per setting"
                )
            heads[name] = ([], None)
            alone[name] = est
            continue
        tuned = {p.split("__")[0] for p in (grid or {})}
        head, rest, head_key = split_stateless_head(est, tuned=tuned)
        heads[name] = (head, head_key)
        if grid or domain_steps(rest) or info_steps(rest):
            alone[name] = rest
        else:
            eligible[name] = (head_key, rest)
    plans = [(None, {n: r}) for n, r in alone.items()] + plan_shared_prefixes(eligible)

    tasks = []
    remaining: dict[tuple[str, int], int] = defaultdict(int)
    for prefix, tails in plans:
        for fold in folds:
            pending = [n for n in tails if (keys[n], task_id(fold)) not in done]
            for n in pending:
                remaining[(keys[n], fold.subject if per_subject else -1)] += 1
            if pending:
                tasks.append((prefix, {n: tails[n] for n in pending}, fold))
    units = set(subjects) if per_subject else {-1}
    for name in pipelines:
        busy = {u for (k, u) in remaining if k == keys[name]}
        for u in units - busy:  # nothing left to do for these
            store.mark_complete(code, evaluation, context, keys[name], u, _unit_version(versions, u))
    if not tasks:
        return
    n_fits = sum(len(t[1]) for t in tasks)
    needs_info = any(info_steps(est) for _, tails, _ in tasks for est in tails.values())
    info = epochs_info(paradigm, dataset, subjects[0]) if needs_info else None

    t0 = perf_counter()
    feats: dict[str, np.ndarray] = {}
    with threadpool_limits(limits=1):
        for name, (head, head_key) in heads.items():
            feats[name] = data.epochs if name in with_epochs else data.features(head, head_key)
    log.info(
        "%s %s: shared features ready in %.2fs; %d pipeline-folds in %d tasks",
        code,
        evaluation,
        perf_counter() - t0,
        n_fits,
        len(tasks),
    )

    arrays = [a for a in feats.values() if isinstance(a, np.ndarray)]
    shared = list({id(a): a for a in [*arrays, data.y, domains]}.values())
    with (
        terminate_gracefully(),  # SIGTERM as Ctrl-C: workers stopped, tmp removed, stored rows kept
        run_tempdir() as tmp,  # owned by this pid; folders of dead runs are removed first
        parallel_backend(backend, n_jobs, scheduler, scatter=shared if backend == "dask" else None) as jobs,
        tqdm(total=n_fits, desc=f"{code} {evaluation}", disable=not progress, unit="fold") as bar,
    ):
        if jobs != 1 and backend in ("loky",):
            feats = _as_memmaps(feats, tmp)
        parallel = Parallel(n_jobs=jobs, return_as="generator_unordered")
        calls = (
            delayed(_tagged)(
                fold,
                feats[next(iter(tails))],
                data.y,
                domains,
                prefix,
                [(n, est, param_grid.get(n)) for n, est in tails.items()],
                fold.train,
                _score_groups(fold, meta),
                metric_name,
                random_state,
                info,
                next(iter(tails)) in with_epochs,
            )
            for prefix, tails, fold in tasks
        )
        for fold, by_name in parallel(calls):
            rows = []
            for name, part in by_name.items():
                for row in part:
                    row.update(
                        dataset=code,
                        pipeline=name,
                        pipeline_key=keys[name],
                        evaluation=evaluation,
                        context=context,
                        data_version=versions[row["subject"]],
                        seed=random_state,
                        paradigm=type(paradigm).__name__,
                        fold=fold.fold,
                        task=task_id(fold),
                        metric=metric_name,
                        n_channels=n_channels,
                    )
                rows += part
            store.add(rows)  # one durable transaction per task
            unit = fold.subject if per_subject else -1
            for name in by_name:
                remaining[(keys[name], unit)] -= 1
                if remaining[(keys[name], unit)] == 0:
                    store.mark_complete(
                        code, evaluation, context, keys[name], unit, _unit_version(versions, unit)
                    )
            bar.update(len(by_name))


def _unit_version(versions: Mapping[int, str], unit: int) -> str:
    """Data version a completion marker is for (``""`` for the whole cohort: the
    context holds every subject's version)."""
    return versions[unit] if unit != -1 else ""


def _tagged(tag, *args):
    # One BLAS thread per task: parallelism comes from running tasks side by side.
    # Multi-threaded BLAS on the many small matrices of a fold (eigh of 64x64
    # covariances) is many times slower than one thread, worst on a busy machine.
    with threadpool_limits(limits=1):
        return tag, _fit_and_score_shared(*args)


def _as_memmaps(feats: dict[str, np.ndarray], folder: str) -> dict[str, np.ndarray]:
    """Write each distinct array once and reopen it memory-mapped, so workers
    share it through the page cache instead of receiving copies."""
    by_id: dict[int, np.ndarray] = {}
    out = {}
    for name, arr in feats.items():
        if not isinstance(arr, np.ndarray):  # mne.Epochs: sent to the workers as they are
            out[name] = arr
            continue
        if id(arr) not in by_id:
            path = os.path.join(folder, f"feat{len(by_id)}.npy")
            np.save(path, np.ascontiguousarray(arr))
            by_id[id(arr)] = np.load(path, mmap_mode="r")
        out[name] = by_id[id(arr)]
    return out
