"""SHERPA documented the client as ``sherpa.database.Client``; it lives here
too so that ``from sherpa.database import Client`` keeps working."""

from .client import Client

__all__ = ['Client']
