"""The HTTP prediction service (``nirom serve``): FastAPI + uvicorn over one loaded model."""

from nirom.serve.app import Predictor, RequestError, create_app, serve

__all__ = ["Predictor", "RequestError", "create_app", "serve"]
