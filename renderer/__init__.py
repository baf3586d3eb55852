"""dbfleet: render a database catalog into validated GitOps manifest bundles."""

__version__ = "0.1.0"
