"""Choose L2 and dropout for breast_cancer by 5-fold cross-validation, and compare
with scikit-learn's MLPClassifier searched over its L2 (alpha) on the same folds.

    python examples/gridsearch_breast_cancer.py
"""

import warnings

from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from reglab import RegularizedMLPClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed budgets, on purpose
X, y = load_breast_cancer(return_X_y=True)
folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)

reglab_search = GridSearchCV(
    make_pipeline(StandardScaler(), RegularizedMLPClassifier(hidden_layer_sizes=(100, 100), max_iter=300,
                                                             learning_rate=0.1, random_state=0)),
    {"regularizedmlpclassifier__l2": [0, 1, 5, 20],
     "regularizedmlpclassifier__keep_prob": [1.0, 0.8, 0.5]},
    cv=folds, n_jobs=2).fit(X, y)
sklearn_search = GridSearchCV(
    make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(100, 100), max_iter=300,
                                                  random_state=0)),
    {"mlpclassifier__alpha": [0, 1, 5, 20]}, cv=folds, n_jobs=2).fit(X, y)


def show(search, names):
    results = search.cv_results_
    for i in range(len(results["params"])):
        values = ", ".join(f"{n} {results['params'][i][k]:g}" for n, k in names)
        print(f"  {values:28s} {results['mean_test_score'][i]:.4f} ± {results['std_test_score'][i]:.4f}")


print("RegularizedMLPClassifier (accuracy, mean ± std over 5 folds):")
show(reglab_search, [("l2", "regularizedmlpclassifier__l2"),
                     ("keep_prob", "regularizedmlpclassifier__keep_prob")])
print("best:", reglab_search.best_params_, f"{reglab_search.best_score_:.4f}")
print("MLPClassifier (adam), same folds:")
show(sklearn_search, [("alpha", "mlpclassifier__alpha")])
print("best:", sklearn_search.best_params_, f"{sklearn_search.best_score_:.4f}")
