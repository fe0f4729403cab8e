"""The ticket store: SQLAlchemy 2 models, the engine (SQLite in WAL mode or PostgreSQL) and Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from serve.text_rules import EXTERNAL_ID_MAX_CHARS

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class ApiKey(Base):
    """An API key: only the SHA-256 of the key is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Ticket(Base):
    """One classified text and where it came from; (source, external_id) is unique, so redeliveries are found."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_tickets_source_external_id"),
        Index("ix_tickets_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_MAX_CHARS), default=None)
    subject: Mapped[str | None] = mapped_column(Text, default=None)
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(30))
    lang: Mapped[str] = mapped_column(String(10))
    lang_prob: Mapped[float] = mapped_column(Float)
    reviewed_lang: Mapped[str | None] = mapped_column(String(10), default=None)
    model_version: Mapped[str] = mapped_column(String(100))
    needs_review: Mapped[bool] = mapped_column(Boolean)
    lifetime_value: Mapped[float | None] = mapped_column(Float, default=None)
    margin: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    labels: Mapped[list[TicketLabel]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketLabel.position", lazy="selectin"
    )
    feedback: Mapped[list[Feedback]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="Feedback.id", lazy="selectin"
    )


class TicketLabel(Base):
    """The model's output for one label of one ticket, and the label's final value (the reviewer's, once reviewed)."""

    __tablename__ = "ticket_labels"
    __table_args__ = (Index("ix_ticket_labels_label_final", "label", "final"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(30), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    prob: Mapped[float] = mapped_column(Float)
    decision: Mapped[bool] = mapped_column(Boolean)
    confidence: Mapped[str] = mapped_column(String(10))
    final: Mapped[bool] = mapped_column(Boolean)

    ticket: Mapped[Ticket] = relationship(back_populates="labels")


class Feedback(Base):
    """A reviewer's verdict on a ticket's labels: who (the API key's name), when, and the labels they settled on."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"), default=None)
    reviewer: Mapped[str] = mapped_column(String(100))
    verdict: Mapped[str] = mapped_column(String(10))
    labels: Mapped[dict[str, bool]] = mapped_column(JSON)
    lang: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="feedback")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL journal (readers don't block the writer), every commit synced to disk before it returns (so an
    acknowledged write survives a crash or power loss), enforced foreign keys, and a wait instead of 'database locked'.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL mode and may be used from the server's worker threads.

    Statement parameters (complaint texts, key hashes) are kept out of SQLAlchemy's logs and error messages.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_database(url: str) -> Database:
    """Connect to `url` and apply migrations."""
    database = Database(url)
    migrate(database.engine)
    return database
