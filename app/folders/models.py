"""Folders: a project's flows grouped under a name."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.db import Base
from app.platforms.models import TIMESTAMP


class Folder(Base):
    __tablename__ = "folder"

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=func.now())
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=func.now())
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String)
    display_order: Mapped[int] = mapped_column(Integer, server_default="0")
    external_id: Mapped[str | None] = mapped_column(String)


# Folder names are unique per project regardless of case: creating a folder (or a flow with a
# `folderName`) finds or makes one atomically, and a rename onto a taken name is refused.
Index("uq_folder_project_id_lower_display_name", Folder.project_id, func.lower(Folder.display_name), unique=True)
Index("ix_folder_project_id_created_id", Folder.project_id, Folder.created, Folder.id)
