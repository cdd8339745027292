"""gatekeeper: is it safe to release service S to environment E now?"""

__version__ = "0.1.0"
