"""The admin API's shared traffic state: every replica reads and writes these rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, Identity, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.db import Base


class AdminFault(Base):
    __tablename__ = "admin_fault"

    # The order faults were added in, which is the order they fire in.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    id: Mapped[str] = mapped_column(String(21), unique=True)
    path_pattern: Mapped[str] = mapped_column(String)
    method: Mapped[str | None] = mapped_column(String)
    status: Mapped[int | None] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String)
    times: Mapped[int] = mapped_column(Integer)
    delay_ms: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)


class AdminRequestLog(Base):
    __tablename__ = "admin_request_log"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    finished: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    method: Mapped[str] = mapped_column(String)
    path: Mapped[str] = mapped_column(String)
    status: Mapped[int] = mapped_column(Integer)
    ms: Mapped[float] = mapped_column(Float)
    request_id: Mapped[str] = mapped_column(String)
    body_size: Mapped[int] = mapped_column(BigInteger)
