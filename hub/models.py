"""Imports every table module so alembic sees the whole metadata."""

from hub.access import models as access_models
from hub.auth import models as auth_models
from hub.credit import models as credit_models
from hub.db import Base
from hub.declarations import models as declarations_models
from hub.documents import models as documents_models
from hub.events import models as events_models
from hub.log import models as log_models
from hub.messages import models as messages_models
from hub.risk import models as risk_models
from hub.standards import models as standards_models
from hub.trade import models as trade_models

TABLE_MODULES = (
    auth_models,
    standards_models,
    declarations_models,
    trade_models,
    access_models,
    documents_models,
    log_models,
    messages_models,
    events_models,
    credit_models,
    risk_models,
)

metadata = Base.metadata
