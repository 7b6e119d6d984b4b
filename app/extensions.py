"""Flask extensions, created unbound and attached in create_app()."""
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app.core.replica import RoutingSession

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
# No default limits: only the sign-in routes carry one (app/auth/limits.py), and only they run its hooks.
limiter = Limiter(key_func=get_remote_address)


def on_postgresql() -> bool:
    """Whether the session's database is PostgreSQL (row locks, arrays, set-based JSON writes); else SQLite."""
    return db.session.get_bind().dialect.name == "postgresql"


def execute_core(statement, params):
    """A Core statement (no ORM entities) on the session's connection, in the session's transaction. The
    same as db.session.execute, without the ORM's execution path, which costs a handheld's write more
    than the statement itself."""
    return db.session.connection().execute(statement, params)
