"""Imports every table module so alembic sees the whole metadata."""

from hub.auth import models as auth_models
from hub.standards import models as standards_models
from hub.db import Base

TABLE_MODULES = (auth_models, standards_models)

metadata = Base.metadata
