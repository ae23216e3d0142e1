"""Every table of the portal, in one place so privacy review reads one file.

Consent and privacy fields carry a one-line meaning.
"""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, date, datetime

from sqlalchemy import Column, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

# Named constraints: SQLite batch migrations need them, and names make migrations stable.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    SURVIVOR = "survivor"
    CASEWORKER = "caseworker"
    MENTOR = "mentor"
    ADMIN = "admin"


STAFF_ROLES = (Role.CASEWORKER, Role.MENTOR)


class User(SQLModel, table=True):
    """A person who signs in: a survivor, a caseworker, a peer mentor or an organisation admin."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    # What the person typed, normalised (NFC); shown back to them only.
    username: str = Field(max_length=64)
    # The comparison form (NFKC + casefold): two spellings that look alike are one account.
    username_key: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(sa_column=Column(String(16), nullable=False))
    # argon2id hash; empty for a staff account whose set-password link is not used yet.
    password_hash: str = Field(default="", max_length=255)
    # False: the admin has deactivated this staff account; no sign-in, no session survives.
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    # Where Exit now leads for this person; empty means the organisation's default.
    exit_url: str = Field(default="", max_length=500)
    # IANA time zone ("Europe/London") that times are entered and shown in; empty: UTC until set.
    time_zone: str = Field(default="", max_length=64)
    # Sign out after this many idle minutes (5 to 60); 0: the organisation's setting.
    idle_minutes: int = Field(default=0)
    # Cover the page while the app is hidden (app switcher, another tab).
    cover_when_hidden: bool = Field(default=True)
    # The name and icon the installed app gets: "waypoint" or "notes" (chosen before installing).
    app_name: str = Field(default="waypoint", max_length=16)
    # The language the person chose ("es", "ar", ...); empty: none chosen, the browser's decides.
    language: str = Field(default="", max_length=8)
    # When a caseworker or mentor last opened their Home, which shows what changed in their people's sharing
    # since then; None: never (the first visit shows the last 14 days). Unused for survivors and admins.
    home_seen_at: datetime | None = Field(default=None)
    # Staff and admins: the organisation they work for (None for survivors, who belong to none).
    organisation_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("organisation.id", ondelete="RESTRICT"), nullable=True, index=True))
    # Staff: the name survivors see ("Amira Haddad"), never the username; and what they help with (their profile).
    display_name: str = Field(default="", max_length=80)
    helps_with: str = Field(default="", max_length=300)
    # Survivors: consent to be counted in their organisations' anonymous totals (Impact). Off until they say yes.
    count_me_in: bool = Field(default=False)
    # Survivors: the question about counting has been answered (yes or no), so Home asks it only once.
    count_asked: bool = Field(default=False)


class WebSession(SQLModel, table=True):
    """A signed-in browser. Kept here unless REDIS_URL moves sessions to Redis."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_user_id", "user_id"),)

    # SHA-256 of the cookie value: a copy of this table cannot be replayed as a cookie.
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    # Absolute end, fixed at sign-in.
    expires_at: datetime
    # A coarse device label ("Android phone"), never the full user agent.
    device: str = Field(default="", max_length=40)
    # When the person last confirmed it was them (password or passkey again); adding a passkey or a
    # device needs this within 5 minutes.
    confirmed_at: datetime | None = Field(default=None)


class PasswordSetup(SQLModel, table=True):
    """A one-time set-password link an admin hands to a new staff member."""

    __tablename__ = "password_setup"
    __table_args__ = (Index("ix_password_setup_user_id", "user_id"),)

    # SHA-256 of the token in the link; the link itself is shown once and never stored.
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = Field(default=None)


def new_public_id() -> str:
    """An opaque id for URLs: 96 random bits, so ids say nothing and cannot be guessed or counted."""
    return secrets.token_urlsafe(12)


class GoalArea(enum.StrEnum):
    HOUSING = "housing"
    HEALTH = "health"
    LEGAL = "legal"
    EDUCATION = "education"
    WORK = "work"
    MONEY = "money"
    FAMILY = "family"
    SAFETY = "safety"
    OTHER = "other"


class GoalStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ACHIEVED = "achieved"


class Goal(SQLModel, table=True):
    """Something a survivor is working towards, in their own words. Seen only by them (and, once
    sharing exists, by whom they share goals with)."""

    __tablename__ = "goal"
    __table_args__ = (
        Index("ix_goal_owner_status_created", "owner_id", "status", "created_at"),
        # The list of active and paused goals, newest first (two statuses: the index above cannot order them).
        Index("ix_goal_owner_created", "owner_id", "created_at"),
    )

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    owner_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # "Only me": never shown to anyone else, whatever part is shared.
    private: bool = Field(default=False)
    title: str = Field(max_length=200)
    why: str = Field(default="", max_length=2000)
    area: str = Field(sa_column=Column(String(16), nullable=False))
    target_date: date | None = Field(default=None)
    status: str = Field(default=GoalStatus.ACTIVE.value, sa_column=Column(String(16), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    achieved_at: datetime | None = Field(default=None)
    # Kept on the goal so lists show "3 of 5 steps" without a query per goal.
    steps_total: int = Field(default=0)
    steps_done: int = Field(default=0)


class GoalStep(SQLModel, table=True):
    """One small step towards a goal; ticked when done, in the order the survivor chose."""

    __tablename__ = "goal_step"
    __table_args__ = (Index("ix_goal_step_goal_position", "goal_id", "position"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    goal_id: str = Field(sa_column=Column(ForeignKey("goal.id", ondelete="CASCADE"), nullable=False))
    text: str = Field(max_length=200)
    done: bool = Field(default=False)
    position: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)


class Reminder(enum.StrEnum):
    NONE = "none"
    HOUR_BEFORE = "1h"
    DAY_BEFORE = "1d"


class Appointment(SQLModel, table=True):
    """A meeting the survivor has: with a lawyer, a doctor, a course. Times are stored in UTC."""

    __tablename__ = "appointment"
    __table_args__ = (Index("ix_appointment_owner_starts", "owner_id", "starts_at"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    owner_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # "Only me": never shown to anyone else, whatever part is shared.
    private: bool = Field(default=False)
    what: str = Field(max_length=200)
    starts_at: datetime
    # The zone it was entered in, so it is shown as typed even after the survivor moves.
    time_zone: str = Field(max_length=64)
    place: str = Field(default="", max_length=200)
    with_whom: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=2000)
    reminder: str = Field(default=Reminder.NONE.value, sa_column=Column(String(8), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    # When the reminder is due (UTC); cleared once it is queued, so the reminder goes out once.
    remind_at: datetime | None = Field(default=None, index=True)


class DocumentKind(enum.StrEnum):
    ID = "id"
    IMMIGRATION = "immigration"
    LEGAL = "legal"
    MEDICAL = "medical"
    HOUSING = "housing"
    WORK = "work"
    EDUCATION = "education"
    OTHER = "other"


class Document(SQLModel, table=True):
    """A paper the survivor keeps: a photo or PDF of an ID, a visa, a court letter. The file itself is
    encrypted in chunks (`DocumentChunk`); this row holds what is needed to find and open it."""

    __tablename__ = "document"
    __table_args__ = (
        Index("ix_document_owner_created", "owner_id", "created_at"),
        Index("ix_document_owner_expires", "owner_id", "expires_on"),
    )

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    owner_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # "Only me": never shown to anyone else, whatever part is shared.
    private: bool = Field(default=False)
    # The survivor's own name for it; never used as a file name, a path or a page title.
    name: str = Field(max_length=200)
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    expires_on: date | None = Field(default=None)
    # Judged from the file's first bytes, never from its name or the browser's word.
    media_type: str = Field(max_length=32)
    size: int
    # Where storage keeps the encrypted chunks: random, unrelated to the name or the owner.
    storage_key: str = Field(max_length=32, unique=True)
    # The document's own AES-256 key, itself encrypted (AES-GCM) by the master key.
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Which master key wrapped it (a fingerprint, not the key), so a wrong key is reported, not guessed at.
    key_id: str = Field(max_length=16)
    chunk_count: int
    created_at: datetime = Field(default_factory=utcnow)
    # When to say next that it expires soon (30, then 7 days before); None when nothing is left to say.
    warn_at: datetime | None = Field(default=None, index=True)


class DocumentChunk(SQLModel, table=True):
    """One encrypted piece of a document (AES-256-GCM; the plaintext is never stored)."""

    __tablename__ = "document_chunk"

    storage_key: str = Field(primary_key=True, max_length=32)
    position: int = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class SafeAnswer(enum.StrEnum):
    YES = "yes"
    NOT_SURE = "not_sure"
    NO = "no"


class CheckIn(SQLModel, table=True):
    """An aftercare check-in: how the survivor feels today, in their own words. Seen only by them
    (and, once sharing exists, by whom they share check-ins with)."""

    __tablename__ = "checkin"
    __table_args__ = (Index("ix_checkin_owner_created", "owner_id", "created_at"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    owner_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # "Only me": never shown to anyone else, whatever part is shared.
    private: bool = Field(default=False)
    # 1 (very low) to 5 (very good).
    feeling: int
    # "yes", "not_sure", "no", or empty when the survivor chose not to answer.
    safe: str = Field(default="", sa_column=Column(String(8), nullable=False))
    # What would help, as comma-separated keys ("housing,food"); empty for none.
    needs: str = Field(default="", max_length=100)
    note: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)


class SafetyPlan(SQLModel, table=True):
    """The survivor's safety plan: one per person, each section in their own words and every one optional.
    Never printed or downloaded unless they choose to, after a warning."""

    __tablename__ = "safety_plan"
    __table_args__ = (Index("ix_safety_plan_owner_id", "owner_id", unique=True),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    owner_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # "Only me": never shown to anyone else, whatever part is shared.
    private: bool = Field(default=False)
    # People I can call: a JSON list of {"name": ..., "reach": ...} (how to reach them), in the order written.
    people: str = Field(default="[]", max_length=4000)
    places: str = Field(default="", max_length=2000)  # safe places
    signs: str = Field(default="", max_length=2000)  # signs that things are getting unsafe
    # What I would take with me: ticked keys from a fixed list ("id,phone,money"), the ids of papers kept under
    # Documents that are ticked, and anything else in their own words.
    take: str = Field(default="", max_length=200)
    take_documents: str = Field(default="", max_length=2000)
    take_other: str = Field(default="", max_length=1000)
    code_word: str = Field(default="", max_length=200)  # a code word ...
    code_with: str = Field(default="", max_length=200)  # ... and who knows it
    plan: str = Field(default="", max_length=4000)  # what I will do if ...
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# The areas of life rated in `LifeAreas`, in the order they are shown; each is a column of that table.
LIFE_AREAS = ("safety", "housing", "health", "mind", "money", "work", "legal", "people")


class LifeAreas(SQLModel, table=True):
    """One time the survivor rated where they are now in each area of life, 1 ("Very hard right now") to 5
    ("Going well"); an area left out is None. Repeated over time, the first and the latest show the change."""

    __tablename__ = "life_areas"
    __table_args__ = (Index("ix_life_areas_owner_created", "owner_id", "created_at"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    owner_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # "Only me": never shown to anyone else, whatever part is shared.
    private: bool = Field(default=False)
    safety: int | None = Field(default=None)
    housing: int | None = Field(default=None)
    health: int | None = Field(default=None)
    mind: int | None = Field(default=None)  # mind and feelings
    money: int | None = Field(default=None)
    work: int | None = Field(default=None)  # work and learning
    legal: int | None = Field(default=None)  # legal matters
    people: int | None = Field(default=None)  # people around me
    # The survivor's private notes, a JSON object {area: note}: held back from others unless shared with notes.
    notes: str = Field(default="{}", max_length=8000)
    created_at: datetime = Field(default_factory=utcnow)


class JournalEntry(SQLModel, table=True):
    """A dated record of what happened, in the survivor's words: when it happened (which may differ from when it
    was written), what, where. Never silently rewritten: each change keeps the earlier words (`JournalVersion`)."""

    __tablename__ = "journal_entry"
    __table_args__ = (Index("ix_journal_entry_owner_happened", "owner_id", "happened_on"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    owner_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # "Only me": never shown to anyone else, whatever part is shared.
    private: bool = Field(default=False)
    happened_on: date
    happened_time: str = Field(default="", max_length=5)  # local "HH:MM", or empty when not known
    what: str = Field(max_length=8000)
    place: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)  # when it was first written
    changed_at: datetime | None = Field(default=None)  # when it was last changed; None: never


class JournalVersion(SQLModel, table=True):
    """An earlier version of a journal entry, kept when the entry was changed: what it said until `replaced_at`."""

    __tablename__ = "journal_version"
    __table_args__ = (Index("ix_journal_version_entry", "entry_id", "replaced_at"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    entry_id: str = Field(sa_column=Column(ForeignKey("journal_entry.id", ondelete="CASCADE"), nullable=False))
    happened_on: date
    happened_time: str = Field(default="", max_length=5)
    what: str = Field(max_length=8000)
    place: str = Field(default="", max_length=300)
    written_at: datetime  # when these words were written
    replaced_at: datetime = Field(default_factory=utcnow)  # when they were changed


class JournalFile(SQLModel, table=True):
    """A photo or PDF kept with a journal entry, encrypted in chunks like a document (`DocumentChunk`, by its
    own random `storage_key`); whoever may read the entry may open it."""

    __tablename__ = "journal_file"
    __table_args__ = (Index("ix_journal_file_entry", "entry_id"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    entry_id: str = Field(sa_column=Column(ForeignKey("journal_entry.id", ondelete="CASCADE"), nullable=False))
    name: str = Field(max_length=200)
    media_type: str = Field(max_length=32)
    size: int
    storage_key: str = Field(max_length=32, unique=True)
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_id: str = Field(max_length=16)
    chunk_count: int
    created_at: datetime = Field(default_factory=utcnow)


class Organisation(SQLModel, table=True):
    """An organisation whose staff work with survivors (a shelter, legal aid, a mentoring programme). One
    deployment serves several; the first one made hosts the deployment: its country and exit place are the
    defaults a survivor sees before connecting to anyone."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    # The name survivors see beside a staff member's ("Safe Harbor"); empty until its admin names it.
    name: str = Field(default="", max_length=120)
    # ISO 3166 two-letter code ("GB", "US"), chosen by the first admin; empty: not chosen yet.
    country: str = Field(default="", max_length=2)
    # Where Exit now leads for anyone who chose no place of their own; empty: the deployment's PORTAL_EXIT_URL.
    exit_url: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class HelpLine(SQLModel, table=True):
    """A number the organisation shows to a survivor who says they do not feel safe. Set by the
    organisation admin; when there are none, the built-in defaults are shown."""

    __tablename__ = "help_line"

    id: int | None = Field(default=None, primary_key=True)
    # The organisation that shows this line to the survivors connected to its staff.
    organisation_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("organisation.id", ondelete="CASCADE"), nullable=True, index=True))
    label: str = Field(max_length=120)
    # A number to call (shown as a tel: link); may be empty when the line is text only.
    call: str = Field(default="", max_length=32)
    # A number to text (shown as an sms: link); may be empty.
    text: str = Field(default="", max_length=32)
    position: int = Field(default=0)


# ----- sharing: connections, share cards, the access log ----------------------------------------


class ConnectionCode(SQLModel, table=True):
    """The short code a caseworker or mentor shows a survivor, so the survivor can connect to them."""

    __tablename__ = "connection_code"
    __table_args__ = (Index("ix_connection_code_staff_id", "staff_id"),)

    # SHA-256 of the code: the code itself is shown once, on the staff member's screen, and never stored.
    id: str = Field(primary_key=True, max_length=64)
    staff_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    # 15 minutes after it was shown.
    expires_at: datetime
    # Set when a survivor connects with it (or when the staff member asks for a new one): single use.
    used_at: datetime | None = Field(default=None)


class Connection(SQLModel, table=True):
    """A survivor linked to one caseworker or mentor. Alone it shares nothing: share cards do."""

    __tablename__ = "connection"
    __table_args__ = (
        # Survivor first, then staff: the share check asks for one survivor's connection to one staff member,
        # and must not be drawn to a staff index, which may hold thousands of connections.
        Index("ix_connection_survivor_staff", "survivor_id", "staff_id"),
        Index("ix_connection_staff_id", "staff_id"),
        Index("ix_connection_staff_created", "staff_id", "created_at"),  # My people, newest first, a page at a time
    )

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    survivor_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    staff_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # The name the staff member sees for this survivor: chosen by the survivor, never their username.
    survivor_label: str = Field(max_length=60)
    created_at: datetime = Field(default_factory=utcnow)
    # Set when either side ends the connection; every share card on it ends with it.
    ended_at: datetime | None = Field(default=None)
    # Set while the survivor has paused a peer mentor: the mentor's messages wait, nothing is pushed.
    paused_at: datetime | None = Field(default=None)


class Grant(SQLModel, table=True):
    """A share card: one connected person may read one part (or one item) of the survivor's space,
    read-only, from `created_at` until `ends_at` (None: until the survivor stops it)."""

    __tablename__ = "share_grant"
    __table_args__ = (Index("ix_share_grant_connection_id", "connection_id"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    connection_id: str = Field(sa_column=Column(ForeignKey("connection.id", ondelete="CASCADE"), nullable=False))
    # A whole part ("documents"): it covers items added later, except items marked "Only me".
    part: str = Field(sa_column=Column(String(16), nullable=False))
    # One item of that part, when the card is for a single item; None for the whole part.
    item_id: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    ends_at: datetime | None = Field(default=None)
    # Set when the survivor stops sharing; checked on every request, never cached.
    revoked_at: datetime | None = Field(default=None)
    # The survivor ticked Include my notes: the items' free-text notes are shown too (otherwise held back).
    include_notes: bool = Field(default=False)


class AccessLog(SQLModel, table=True):
    """One look by someone other than the survivor: who, in which role, at what, when. Only the survivor
    reads it (Who has looked); admins see counts."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_survivor_at", "survivor_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    survivor_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # The viewer; kept as a name and role too, so the line stays true if the account is later removed.
    viewer_id: int | None = Field(default=None, sa_column=Column(ForeignKey("app_user.id", ondelete="SET NULL")))
    # The name the survivor knows them by (a staff member's display name) and their organisation's name.
    viewer_name: str = Field(max_length=80)
    viewer_role: str = Field(sa_column=Column(String(16), nullable=False))
    viewer_organisation: str = Field(default="", max_length=120)
    part: str = Field(sa_column=Column(String(16), nullable=False))
    # The item opened, or None for a look at the list of a part.
    item_id: str | None = Field(default=None, max_length=16)
    # "list", "item" or "download".
    action: str = Field(sa_column=Column(String(10), nullable=False))
    at: datetime = Field(default_factory=utcnow)


class Feedback(SQLModel, table=True):
    """A survivor telling an organisation how its help feels: 1 to 5 and optional words. The organisation's admins
    read it without a name and by month only, and only once 5 or more people have answered; one answer per
    survivor and organisation (a new one replaces the old)."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("organisation_id", "survivor_id", name="uq_feedback_organisation_survivor"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    organisation_id: int = Field(sa_column=Column(ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False))
    # Kept so the survivor can change or take back their answer, and so deleting the account deletes it; never shown.
    survivor_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # "2026-12": the month, the finest time an admin learns.
    month: str = Field(max_length=7)
    rating: int
    words: str = Field(default="", max_length=1000)


class AccessRequest(SQLModel, table=True):
    """A caseworker or mentor asking a connected survivor to share one part, with a reason. The survivor
    approves (choosing until when) or declines; the asker learns only "approved" or "not now"."""

    __tablename__ = "access_request"
    __table_args__ = (Index("ix_access_request_connection_id", "connection_id"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    connection_id: str = Field(sa_column=Column(ForeignKey("connection.id", ondelete="CASCADE"), nullable=False))
    part: str = Field(sa_column=Column(String(16), nullable=False))
    # The asker's words, shown only to the survivor.
    reason: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    answered_at: datetime | None = Field(default=None)
    # None while waiting; True approved; False declined (the asker sees "not now").
    approved: bool | None = Field(default=None)


# ----- peer mentor messages and reminders on the phone ------------------------------------------


class Message(SQLModel, table=True):
    """One message in the thread between a survivor and a peer mentor: plain text, always shown as text.
    Only the two people on the connection read it; a caseworker never does."""

    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_connection_id", "connection_id", "id"),
        Index("ix_message_sender_created", "sender_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: str = Field(sa_column=Column(ForeignKey("connection.id", ondelete="CASCADE"), nullable=False))
    sender_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    body: str = Field(max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    # Sent while the survivor had paused the mentor: kept, and shown to the survivor once they resume.
    held: bool = Field(default=False)
    # When the other person first saw it.
    read_at: datetime | None = Field(default=None)


class PushSettings(SQLModel, table=True):
    """What a person lets their phones tell them, and when. No row: the defaults."""

    __tablename__ = "push_settings"

    user_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True))
    # The words on the lock screen; empty: "You have a new update". Never an item's own words.
    text: str = Field(default="", max_length=60)
    appointments: bool = Field(default=True)
    documents: bool = Field(default=True)
    messages: bool = Field(default=True)
    checkins: bool = Field(default=False)
    # A caseworker or mentor asked to see something (off until the survivor turns it on).
    requests: bool = Field(default=False)
    # A monthly reminder to rate the areas of life again (off until the survivor turns it on), and when it is
    # due next (UTC; found by index like the check-in reminder's).
    life_areas: bool = Field(default=False)
    life_areas_next_at: datetime | None = Field(default=None, index=True)
    # Weekdays for the check-in reminder, Monday = 0 ("024": Monday, Wednesday, Friday).
    checkin_days: str = Field(default="", max_length=7)
    # Local time "HH:MM" of the check-in reminder, in the person's time zone.
    checkin_time: str = Field(default="18:00", max_length=5)
    # The next check-in reminder (UTC), kept so the reminder worker finds due ones by index.
    checkin_next_at: datetime | None = Field(default=None, index=True)
    # Quiet hours, local "HH:MM" (both empty: none). Nothing is pushed inside them; it waits.
    quiet_from: str = Field(default="", max_length=5)
    quiet_to: str = Field(default="", max_length=5)


class PushSubscription(SQLModel, table=True):
    """One phone or browser that may be sent reminders (a Web Push subscription)."""

    __tablename__ = "push_subscription"
    __table_args__ = (Index("ix_push_subscription_user_id", "user_id"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    user_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # The push service's address for this browser; a secret of sorts, never shown or logged.
    endpoint: str = Field(max_length=1000)
    # SHA-256 of the endpoint: the same browser subscribing again replaces its row.
    endpoint_hash: str = Field(max_length=64, unique=True)
    # The browser's public key (P-256, base64url) and auth secret, which encrypt what is sent.
    p256dh: str = Field(max_length=100)
    auth: str = Field(max_length=40)
    # A coarse label ("Android phone"), never the full user agent.
    device: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=utcnow)
    last_sent_at: datetime | None = Field(default=None)


class OutboxState(enum.StrEnum):
    WAITING = "waiting"
    SENT = "sent"
    FAILED = "failed"
    # No longer needed when its turn came (the message was read, the appointment moved).
    DROPPED = "dropped"


class PushOutbox(SQLModel, table=True):
    """One notification for one device, kept until it is sent: durable across restarts, claimed by one
    worker at a time, retried with backoff. It holds no words, only what it is about."""

    __tablename__ = "push_outbox"
    __table_args__ = (
        UniqueConstraint("key", "subscription_id", name="uq_push_outbox_key_subscription"),
        Index("ix_push_outbox_state_next", "state", "next_at"),
        Index("ix_push_outbox_subscription_id", "subscription_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    subscription_id: str = Field(
        sa_column=Column(ForeignKey("push_subscription.id", ondelete="CASCADE"), nullable=False)
    )
    # "appointment", "checkin", "document" or "message".
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    # The item it is about (checked again just before sending), or None.
    ref: str | None = Field(default=None, max_length=32)
    # What makes it one notification ("appointment:<id>:<time>"): queued twice, it is stored once.
    key: str = Field(max_length=120)
    state: str = Field(default=OutboxState.WAITING.value, sa_column=Column(String(8), nullable=False))
    # Not before this moment (retries and quiet hours move it on).
    next_at: datetime = Field(default_factory=utcnow)
    attempts: int = Field(default=0)
    # Which worker holds it, until when: another worker may take it only after the lease ends.
    claimed_by: str | None = Field(default=None, max_length=16)
    lease_until: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = Field(default=None)


# ----- the account's own life ---------------------------------------------------------------------


class RecoveryCode(SQLModel, table=True):
    """One of the 10 single-use codes that let a person set a new password without e-mail (an abuser may
    read the e-mail). Shown once; only a keyed hash is kept."""

    __tablename__ = "recovery_code"
    __table_args__ = (Index("ix_recovery_code_user_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # HMAC-SHA256 of the code under the portal's secret key: a copy of the database alone cannot test guesses.
    digest: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = Field(default=None)


class Departure(SQLModel, table=True):
    """What a caseworker or mentor keeps when a person they were connected with deletes their account: that
    someone left, and when. Nothing that names or points to the person."""

    __tablename__ = "departure"
    __table_args__ = (Index("ix_departure_staff_id", "staff_id"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # The day only: an exact time could be matched against other records.
    left_on: date


class Passkey(SQLModel, table=True):
    """A passkey (WebAuthn credential) a person signs in with: the device keeps the private key; this
    keeps the public key and the signature counter."""

    __tablename__ = "passkey"
    __table_args__ = (Index("ix_passkey_user_id", "user_id"),)

    id: str = Field(default_factory=new_public_id, primary_key=True, max_length=16)
    user_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    # The credential id the authenticator chose (base64url).
    credential_id: str = Field(max_length=1400, unique=True)
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Checked on every sign-in: a count that goes backwards means a copied key, and is refused.
    sign_count: int = Field(default=0)
    # The person's own name for it ("My phone").
    name: str = Field(max_length=60)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = Field(default=None)


class PasskeyChallenge(SQLModel, table=True):
    """A WebAuthn challenge: random, single use (deleted when used), valid for 5 minutes."""

    __tablename__ = "passkey_challenge"

    # SHA-256 of the challenge, which the browser signs and sends back.
    id: str = Field(primary_key=True, max_length=64)
    # Who is adding a passkey; None for a sign-in, where the passkey itself says who.
    user_id: int | None = Field(default=None, sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE")))
    # "register", "sign-in" or "confirm" (Confirm it's you).
    purpose: str = Field(max_length=10)
    expires_at: datetime
