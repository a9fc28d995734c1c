"""Vulnerability data (imported offline) and stored scan results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conveyor.db.models import Base, utcnow


class VulnSource(Base):
    """One imported feed (`osv:PYSEC`, `alpine-secdb:v3.19/main`, `debian-tracker:DSA`, ...);
    a re-import replaces all of its rows."""

    __tablename__ = "vuln_sources"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # osv | alpine-secdb | debian-tracker
    advisories: Mapped[int] = mapped_column(Integer, default=0)
    affected: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class VulnAdvisory(Base):
    __tablename__ = "vuln_advisories"
    source: Mapped[str] = mapped_column(String(128), primary_key=True)
    vuln_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(16), default="UNKNOWN")
    summary: Mapped[str] = mapped_column(Text, default="")


class VulnAffected(Base):
    """One affected package of an advisory: OSV-style ranges (lists of events) and/or an
    explicit version list, in one ecosystem (and distribution release, for OS packages)."""

    __tablename__ = "vuln_affected"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(128))
    vuln_id: Mapped[str] = mapped_column(String(128))
    ecosystem: Mapped[str] = mapped_column(String(64))  # lower-case OSV name: pypi, debian, ...
    release: Mapped[str] = mapped_column(String(64), default="")  # bullseye, v3.19, "" for none
    package: Mapped[str] = mapped_column(String(255))  # normalised name (source package for OS)
    ranges: Mapped[list[Any]] = mapped_column(JSON, default=list)
    versions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    fixed: Mapped[str] = mapped_column(String(255), default="")
    __table_args__ = (
        ForeignKeyConstraint(
            ["source", "vuln_id"],
            ["vuln_advisories.source", "vuln_advisories.vuln_id"],
            ondelete="CASCADE",
        ),
        Index("ix_vuln_affected_lookup", "ecosystem", "package"),
        Index("ix_vuln_affected_advisory", "source", "vuln_id"),
    )


class ScanResult(Base):
    """The inventory of one manifest (immutable per digest) and its latest report."""

    __tablename__ = "scan_results"
    digest: Mapped[str] = mapped_column(String(160), primary_key=True)
    inventory: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    vulndb_stamp: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


__all__ = ["ScanResult", "VulnAdvisory", "VulnAffected", "VulnSource"]
