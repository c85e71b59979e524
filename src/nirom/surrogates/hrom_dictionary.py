"""`hrom-dictionary`: a dictionary of local hyper-reduced models and a classifier (ROM-net).

``fit(dataset)``: each training simulation's own POD basis
(:func:`~nirom.hyperreduction.dissimilarity.local_basis`), their pairwise
subspace dissimilarity (principal angles), k-medoids clustering
(:mod:`nirom.hyperreduction.clustering`; the number of clusters given, or, of
those with a silhouette of 0.25 or more that the classifier tells apart, the
one whose local models use the fewest cubature points per prediction, each
cluster weighted by its share of the training simulations), one ``hrom`` per
cluster fitted on its members and its nearest outsiders (``overlap``), and a
classifier from the parameters to the cluster
(:mod:`nirom.hyperreduction.classifier`, cross-validated).

``predict(mu)``: the most probable cluster's model answers; when the
classifier is unsure (top probability below ``threshold``) or that model's
error indicator passes ``indicator_factor`` times its largest value over
that model's own training histories, the next most probable cluster's model
(the neighbouring one) answers instead if its basis is the richer (more
modes): regimes nest (a plastic history's basis holds the elastic response,
not the other way round), so of two candidates the richer one is the safer.
The indicators of two models do not rank their errors (measured on
plate-hole: the model with 4e-4 error had a Gappy misfit of 0.71, the one
with 0.19 error 0.27: a poor basis yields stresses consistent with its own
poor dual basis), so they only raise the doubt, never settle it. With one
cluster the dictionary is the global ``hrom``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from nirom.checks import AnyOf, Constraint, Integer, OneOf, Real
from nirom.dataset import Dataset
from nirom.errors import ParameterError
from nirom.hyperreduction.classifier import ParameterClassifier
from nirom.hyperreduction.clustering import Clustering, choose_clusters, k_medoids, with_overlap
from nirom.hyperreduction.dissimilarity import dissimilarity, dissimilarity_matrix, local_basis
from nirom.hyperreduction.offline import dirichlet_liftings, product_matrix
from nirom.hyperreduction.snapshots import (
    check_displacements,
    displacements,
    mechanics_case,
    snapshot_layout,
)
from nirom.saving import arrays_under, saveable
from nirom.solvers.base import Solver
from nirom.surrogates.base import Bounds, Capabilities, Fields, Prepared, Surrogate
from nirom.surrogates.hrom import HROMSurrogate

_FRACTION = Real(low=0, high=1, closed="neither")
#: The hrom hyperparameters each local model is built with (all of hrom's).
_LOCAL = tuple(HROMSurrogate._get_param_names())


@saveable("surrogate", "hrom-dictionary")
class HROMDictionarySurrogate(Surrogate):
    """Local hyper-reduced models of clustered training simulations, picked by a classifier.

    Parameters (keyword-only)
    -------------------------
    n_clusters : int or "auto"
        Local models; "auto" (default): among 2 ... ``max_clusters`` (clusters of 2
        simulations or more, mean silhouette 0.25 or more) those whose classifier reaches
        ``min_accuracy`` in cross-validation, the number whose local models are expected to
        use the fewest cubature points per prediction (each cluster's model by its share
        of the training simulations; the law at the cubature points is most of the online
        time), which fits the local models of each such number; the largest silhouette if
        the classifier tells none apart; 1 when every silhouette is below 0.25.
    min_accuracy : float
        The cross-validated classification accuracy "auto" asks of a number of clusters:
        clusters the classifier cannot tell apart from the parameters are no use.
    max_clusters : int
        The most clusters "auto" tries.
    overlap : float
        A cluster's basis also takes in its ``ceil(overlap * size)`` nearest outsiders'
        snapshots (by subspace dissimilarity to its medoid); 0: none.
    subspace_tolerance : float
        Relative POD truncation of each simulation's own basis for the dissimilarity.
    threshold : float
        Below this top class probability the classifier is unsure: the next cluster's model
        answers if its basis is richer.
    indicator_factor : float
        Above this many times the model's training level (the largest indicator over its
        own training histories), the next cluster's model answers if its basis is richer.
    seed : int
        Seed of the k-medoids starts.
    tolerance, ecm_tolerance, accuracy, dual_tolerance, product, workers, scheduler :
        Those of each local ``hrom`` (see :class:`~nirom.surrogates.hrom.HROMSurrogate`).
    """

    _constraints: ClassVar[dict[str, Constraint]] = {
        **{k: v for k, v in HROMSurrogate._constraints.items() if k in _LOCAL},
        "n_clusters": AnyOf(rules=(Integer(least=1), OneOf(choices=("auto",)))),
        "max_clusters": Integer(least=2),
        "min_accuracy": Real(low=0, high=1, closed="both"),
        "overlap": Real(low=0, high=1, closed="both"),
        "subspace_tolerance": _FRACTION,
        "threshold": Real(low=0, high=1, closed="both"),
        "indicator_factor": Real(low=0, closed="neither"),
        "seed": Integer(least=0),
    }

    def __init__(
        self,
        *,
        n_clusters: int | str = "auto",
        max_clusters: int = 4,
        min_accuracy: float = 0.95,
        overlap: float = 0.2,
        subspace_tolerance: float = 1e-3,
        threshold: float = 0.7,
        indicator_factor: float = 2.0,
        seed: int = 0,
        tolerance: float | str = "auto",
        ecm_tolerance: float | str = "auto",
        accuracy: float = 1e-4,
        dual_tolerance: float = 1e-4,
        product: str = "l2",
        workers: int = 0,
        scheduler: str | None = None,
    ) -> None:
        self._store_hyperparameters(locals())

    # -- fit -------------------------------------------------------------------------------
    def fit(
        self, dataset: Dataset, ids: list[int] | None = None, case: Solver | str | None = None
    ) -> HROMDictionarySurrogate:
        """Cluster the done samples ``ids`` (default: all) of ``dataset`` by subspace, fit one
        ``hrom`` per cluster and the classifier; ``case`` as ``hrom`` takes it."""
        self.check_params()
        ids = self.check_data(dataset, ids)
        if self.n_clusters != "auto" and self.n_clusters > len(ids):
            raise ParameterError(
                f"n_clusters={self.n_clusters} is more than the {len(ids)} training samples"
            )
        case = mechanics_case(dataset, case)
        bases, matrix = self._subspaces(dataset, case, ids)
        D = dissimilarity_matrix(bases, matrix)
        self.space_ = dataset.space
        u = self._unit(dataset.parameters(ids))
        local = {k: getattr(self, k) for k in _LOCAL}
        fitted: dict[int, list[HROMSurrogate]] = {}
        self.expected_points_: dict[int, float] = {}

        def local_models(clustering: Clustering) -> list[HROMSurrogate]:
            """The local models of a clustering (fitted once), their expected points noted."""
            k = clustering.n_clusters
            if k not in fitted:
                members = with_overlap(D, clustering, self.overlap)
                fitted[k] = [
                    HROMSurrogate(**local).fit(dataset, [ids[i] for i in m], case=case)
                    for m in members
                ]
                self.expected_points_[k] = _expected_points(clustering.labels, fitted[k])
            return fitted[k]

        clustering, tried, classifiers = self._cluster(D, u, local_models)
        members = with_overlap(D, clustering, self.overlap)
        self.locals_ = local_models(clustering)
        self.indicator_levels_ = [
            _training_level(model, dataset.parameters(model.training_ids_))
            for model in self.locals_
        ]
        k = clustering.n_clusters
        self.classifier_ = classifiers.get(k) or ParameterClassifier.fit(u, clustering.labels, k)
        self.accuracies_ = {n: c.cv["accuracy"] for n, c in classifiers.items()}
        self.clustering_ = clustering
        self.members_ = [[ids[i] for i in m] for m in members]
        self.silhouettes_ = tried
        self.dissimilarity_ = D
        self.medoid_bases_ = [bases[i] for i in clustering.medoids]
        self.fields_ = dict(self.locals_[0].fields_)
        self.mesh_ = dataset.mesh
        self.training_ids_ = ids
        return self

    def _subspaces(
        self, dataset: Dataset, case: Any, ids: list[int]
    ) -> tuple[list[np.ndarray], Any]:
        """Each sample's own POD basis (lifting removed, in the case's dofs) and the product."""
        layout = snapshot_layout(dataset, case)
        matrix = product_matrix(case.fe_space, self.product)
        bases = []
        for i, mu in zip(ids, dataset.parameter_sets(ids), strict=True):
            u = displacements(dataset, i, layout)
            lift = dirichlet_liftings(case.fe_space, case.history(case.values(mu)), case.times)
            bases.append(local_basis(u - lift, self.subspace_tolerance, matrix))
        return bases, matrix

    def _cluster(
        self,
        D: np.ndarray,
        u: np.ndarray,
        local_models: Callable[[Clustering], list[HROMSurrogate]],
    ) -> tuple[Clustering, dict[int, float], dict[int, ParameterClassifier]]:
        """The clustering (given number, or chosen), the silhouettes and the classifiers of
        the numbers tried (unit-cube parameters ``u``); "auto" takes, of the numbers the
        classifier tells apart, the one of least expected cubature points per prediction
        (its ``local_models`` fitted to know them)."""
        if self.n_clusters != "auto":
            return k_medoids(D, int(self.n_clusters), self.seed), {}, {}
        classifiers: dict[int, ParameterClassifier] = {}

        def recognised(clustering: Clustering) -> bool:
            k = clustering.n_clusters
            classifiers[k] = ParameterClassifier.fit(u, clustering.labels, k)
            return classifiers[k].cv["accuracy"] >= self.min_accuracy

        def cost(clustering: Clustering) -> float:
            local_models(clustering)
            return self.expected_points_[clustering.n_clusters]

        clustering, tried = choose_clusters(
            D, self.max_clusters, self.seed, accept=recognised, cost=cost
        )
        return clustering, tried, classifiers

    def _check_kind_of_data(self, dataset: Dataset) -> None:
        check_displacements(dataset)

    def _min_samples(self, dataset: Dataset) -> tuple[int, str]:
        return 1, ""

    # -- prediction ------------------------------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        return _CAPABILITIES

    def probabilities(self, mu: Any) -> np.ndarray:
        """The classifier's cluster probabilities (n, n_clusters) of parameter sets ``mu``."""
        self._check_fitted()
        return self.classifier_.probabilities(self.prepare(mu).u)

    def routes(self, mu: Any, **context: Any) -> list[dict[str, Any]]:
        """How each parameter set of ``mu`` is answered: the chosen cluster, its probability,
        the cluster whose model answered, and why the fallback ran (None, "unsure",
        "indicator")."""
        self.check_request(**context)
        batch = self.prepare(mu)
        return [self._answer(batch, row, context)[1] for row in range(len(batch))]

    def _predict_batch(
        self, batch: Prepared, return_std: bool, return_bound: bool, **context: Any
    ) -> tuple[Fields, Fields | None, Bounds | None]:
        runs = [self._answer(batch, row, context)[0] for row in range(len(batch))]
        return {k: np.concatenate([r[k] for r in runs]) for k in runs[0]}, None, None

    def _answer(
        self, batch: Prepared, row: int, context: Mapping[str, Any]
    ) -> tuple[Fields, dict[str, Any]]:
        """One parameter set's fields (batch axis of 1) by its cluster's model, or by the
        next cluster's (if richer) when the classifier is unsure or the indicator rises."""
        online = {k: v for k, v in context.items() if v is not None}
        p = self.classifier_.probabilities(batch.u[row : row + 1])[0]
        order = np.argsort(-p, kind="stable")
        top = int(order[0])
        x = batch.x[row : row + 1]
        route: dict[str, Any] = {"cluster": top, "probability": float(p[top]), "used": top}
        route["fallback"] = None
        neighbour = int(order[1]) if len(order) > 1 else top
        richer = self._modes(neighbour) > self._modes(top)
        if richer and p[top] < self.threshold:  # no need to solve twice
            route.update(fallback="unsure", used=neighbour)
            return self.locals_[neighbour]._simulate(x, **online), route
        first = self.locals_[top]._simulate(x, **online)
        ratio = float(np.max(first["indicator"])) / self.indicator_levels_[top]
        route["indicator_ratio"] = ratio
        if richer and ratio > self.indicator_factor:
            route.update(fallback="indicator", used=neighbour)
            return self.locals_[neighbour]._simulate(x, **online), route
        return first, route

    def _modes(self, cluster: int) -> int:
        return self.locals_[cluster].model_.n_modes

    # -- evaluation ------------------------------------------------------------------------
    def true_clusters(self, dataset: Dataset, ids: list[int]) -> np.ndarray:
        """The cluster of each sample ``ids`` of ``dataset`` by its own subspace: the medoid
        of least dissimilarity."""
        self._check_fitted()
        case = self.locals_[0].case()
        bases, matrix = self._subspaces(dataset, case, ids)
        return np.array(
            [np.argmin([dissimilarity(b, m, matrix) for m in self.medoid_bases_]) for b in bases]
        )

    def evaluation_details(self, dataset: Dataset, ids: list[int]) -> dict[str, Any]:
        """The classification accuracy on samples ``ids`` (the predicted cluster against
        :meth:`true_clusters`) and the cross-validated one of the fit."""
        truth = self.true_clusters(dataset, ids)
        predicted = np.argmax(
            self.classifier_.probabilities(self._unit(dataset.parameters(ids))), 1
        )
        return {
            "classification_accuracy": float(np.mean(predicted == truth)),
            "classification_cv_accuracy": self.classifier_.cv.get("accuracy"),
            "clusters": self.clustering_.n_clusters,
        }

    # -- persistence -------------------------------------------------------------------------
    def _state_json(self) -> dict[str, Any]:
        locals_ = []
        for model in self.locals_:
            doc = model.to_json()
            doc["mesh_cell_types"] = None  # the mesh is the dictionary's
            locals_.append(doc)
        clustering = self.clustering_
        return {
            "locals": locals_,
            "classifier": self.classifier_.to_json(),
            "clustering": {
                "medoids": [int(i) for i in clustering.medoids],
                "labels": [int(i) for i in clustering.labels],
                "cost": clustering.cost,
                "silhouette": None if np.isnan(clustering.silhouette) else clustering.silhouette,
                "tried": {str(k): v for k, v in self.silhouettes_.items()},
                "accuracies": {str(k): v for k, v in self.accuracies_.items()},
                "members": self.members_,
            },
            "indicator_levels": list(self.indicator_levels_),
            "expected_points": {str(k): v for k, v in self.expected_points_.items()},
        }

    def _state_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        for c, model in enumerate(self.locals_):
            saved = model.to_arrays()
            arrays.update(
                {f"local/{c}/{k}": v for k, v in saved.items() if not k.startswith("mesh/")}
            )
            arrays[f"medoid/{c}"] = self.medoid_bases_[c]
        arrays.update({f"classifier/{k}": v for k, v in self.classifier_.to_arrays().items()})
        arrays["dissimilarity"] = self.dissimilarity_
        return arrays

    @classmethod
    def _from_state(
        cls, state: dict[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> HROMDictionarySurrogate:
        model = cls(**cls.params_from_json(state["params"]))
        model.locals_ = [
            HROMSurrogate.from_saved(doc, arrays_under(arrays, f"local/{c}/"))
            for c, doc in enumerate(state["locals"])
        ]
        model.classifier_ = ParameterClassifier.from_saved(
            state["classifier"], arrays_under(arrays, "classifier/")
        )
        saved = state["clustering"]
        labels = np.asarray(saved["labels"], dtype=int)
        model.clustering_ = Clustering(
            np.asarray(saved["medoids"], dtype=int),
            labels,
            float(saved["cost"]),
            float(saved["silhouette"]) if saved["silhouette"] is not None else float("nan"),
        )
        model.silhouettes_ = {int(k): float(v) for k, v in saved["tried"].items()}
        model.accuracies_ = {int(k): float(v) for k, v in saved["accuracies"].items()}
        model.members_ = [[int(i) for i in m] for m in saved["members"]]
        model.medoid_bases_ = [np.asarray(arrays[f"medoid/{c}"]) for c in range(len(model.locals_))]
        model.dissimilarity_ = np.asarray(arrays["dissimilarity"])
        model.indicator_levels_ = [float(v) for v in state["indicator_levels"]]
        saved_points = state.get("expected_points", {})  # saved since the cost choice
        model.expected_points_ = {int(k): float(v) for k, v in saved_points.items()}
        if model.classifier_.n_classes != len(model.locals_):
            raise ValueError(
                f"{model.classifier_.n_classes} classes for {len(model.locals_)} local models"
            )
        return model

    # -- description ---------------------------------------------------------------------------
    def summary(self) -> str:
        self._check_fitted()
        k = len(self.locals_)
        how = "given"
        if self.silhouettes_:
            scores = ", ".join(f"{n}: {s:.2f}" for n, s in sorted(self.silhouettes_.items()))
            how = f"chosen by silhouette ({scores}; 1 when all < 0.25)"
            if self.accuracies_:
                cv = ", ".join(f"{n}: {a:.1%}" for n, a in sorted(self.accuracies_.items()))
                how += (
                    f"; of those whose classifier CV accuracy >= {self.min_accuracy:.0%} ({cv}), "
                )
                how += "the largest silhouette"
            if len(self.expected_points_) > 1:
                cost = ", ".join(f"{n}: {v:.0f}" for n, v in sorted(self.expected_points_.items()))
                how = how.replace("the largest silhouette", "the least expected cubature points")
                how += f" per prediction ({cost})"
        sizes = "/".join(str(len(m)) for m in self.members_)
        modes = "/".join(str(m.model_.n_modes) for m in self.locals_)
        points = "/".join(str(m.model_.n_cubature_points) for m in self.locals_)
        cv = self.classifier_.cv
        accuracy = "" if not cv.get("folds") else f"; classifier CV accuracy {cv['accuracy']:.1%}"
        return (
            f"hrom-dictionary: {k} local model{'s' if k > 1 else ''} ({how}), simulations "
            f"{sizes}, modes {modes}, cubature points {points}{accuracy}"
        )

    def card_details(self) -> dict[str, Any]:
        """Clusters, their sizes, each local model's modes and points, the classifier."""
        return {
            "clusters": len(self.locals_),
            "silhouette": {str(k): v for k, v in self.silhouettes_.items()},
            "classifier_accuracy_by_clusters": {str(k): v for k, v in self.accuracies_.items()},
            "medoid_samples": [int(self.training_ids_[i]) for i in self.clustering_.medoids]
            if self.training_ids_
            else None,
            "cluster_sizes": [len(m) for m in self.members_],
            "local_models": [m.card_details() for m in self.locals_],
            "classifier": {"kind": "multinomial logistic (quadratic)", **self.classifier_.cv},
            "threshold": self.threshold,
            "indicator_factor": self.indicator_factor,
            "indicator_levels": list(self.indicator_levels_),
            "expected_cubature_points": {str(k): v for k, v in self.expected_points_.items()},
        }


def _expected_points(labels: np.ndarray, models: list[HROMSurrogate]) -> float:
    """The cubature points a prediction is expected to use: each local model's, weighted by
    its cluster's share of the training simulations (the law's evaluations at the cubature
    points dominate the online time: measured on plate-hole, 142 / 84 / 21 points cost 34 /
    19 / 8 ms)."""
    share = np.bincount(labels, minlength=len(models)) / labels.size
    points = np.array([m.model_.n_cubature_points for m in models], dtype=float)
    return float(share @ points)


def _training_level(model: HROMSurrogate, x: np.ndarray) -> float:
    """The largest error indicator of ``model`` over its training parameter sets ``x`` (n, d)
    (a floor of 1e-12 keeps ratios finite)."""
    return max(1e-12, max(float(np.max(model._simulate(row[None])["indicator"])) for row in x))


_CAPABILITIES = Capabilities(
    context=("history", "times"),
    fit_context=("case",),
    all_fields=False,
    diagnostics=("indicator",),
    time_series=True,
)
