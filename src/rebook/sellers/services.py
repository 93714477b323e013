"""Writes for sellers: create, update, choose the one a command acts for, change the policy."""

from __future__ import annotations

import getpass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from rebook.errors import RebookError
from rebook.leads.services import leads_reevaluate_all
from rebook.sellers.models import InfoPackFile, LoginFailure, Seller
from rebook.strategy.policy import policy_set
from rebook.strategy.reasons import ALL_CATEGORIES
from rebook.timeparse import zone


def default_timezone() -> str:
    """A new seller's time zone: REBOOK_TIMEZONE, else the machine's own, else UTC."""
    return _default_timezone()


def _default_timezone() -> str:
    if settings.REBOOK_TIMEZONE:
        return zone(settings.REBOOK_TIMEZONE).key
    try:
        import tzlocal

        return zone(tzlocal.get_localzone_name() or "UTC").key
    except Exception:  # an odd /etc/localtime must not stop a first run
        return "UTC"


def _clean_emails(raw: str | None) -> list[str]:
    out = []
    for address in (raw or "").replace(";", ",").split(","):
        address = address.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise RebookError(f"email: {address!r} is not a valid e-mail address") from None
        out.append(address.lower())
    return out


@transaction.atomic
def seller_create(
    *,
    username: str,
    display_name: str = "",
    email: str = "",
    timezone_name: str | None = None,
    password: str | None = None,
    is_manager: bool = False,
) -> Seller:
    User = get_user_model()
    username = username.strip()
    if not username:
        raise RebookError("username: must not be empty")
    if User.objects.filter(username=username).exists():
        raise RebookError(f"a user named {username!r} already exists")
    emails = _clean_emails(email)
    tz = zone(timezone_name).key if timezone_name else _default_timezone()
    if password is not None:
        _check_password(password, User(username=username))
    user = User.objects.create_user(username=username, email=emails[0] if emails else "", password=password)
    return Seller.objects.create(
        user=user, display_name=display_name.strip(), emails=emails, timezone=tz, is_manager=is_manager,
        timezone_chosen=bool(timezone_name or settings.REBOOK_TIMEZONE),
    )


def _check_password(password: str, user) -> None:
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, user)
    except ValidationError as e:
        raise RebookError("password: " + " ".join(e.messages)) from None


@transaction.atomic
def seller_set_password(*, seller: Seller, password: str) -> Seller:
    _check_password(password, seller.user)
    seller.user.set_password(password)
    seller.user.save(update_fields=["password"])
    return seller


@transaction.atomic
def seller_update(
    *, seller: Seller, display_name: str | None = None, email: str | None = None, timezone_name: str | None = None
) -> Seller:
    if display_name is not None:
        seller.display_name = display_name.strip()
    if email is not None:
        emails = _clean_emails(email)
        # New addresses go first; the older ones still identify the seller in old calendar files.
        seller.emails = emails + [e for e in seller.emails if e not in emails]
        if emails:
            seller.user.email = emails[0]
            seller.user.save(update_fields=["email"])
    if timezone_name is not None:
        seller.timezone = zone(timezone_name).key
        seller.timezone_chosen = True
    seller.save()
    return seller


def seller_resolve(username: str | None = None) -> Seller:
    """The seller a command acts for: --user, else REBOOK_USER, else the only one (made on first use)."""
    username = username or settings.REBOOK_USER or None
    sellers = Seller.objects.select_related("user")
    if username:
        found = sellers.filter(user__username=username).first()
        if found is None:
            known = ", ".join(sellers.values_list("user__username", flat=True).order_by("user__username"))
            raise RebookError(f"no seller named {username!r}" + (f"; known sellers: {known}" if known else ""))
        return found
    everyone = list(sellers.order_by("id")[:2])
    if len(everyone) == 1:
        return everyone[0]
    if everyone:
        names = ", ".join(sellers.values_list("user__username", flat=True).order_by("user__username"))
        raise RebookError(f"there are several sellers ({names}); choose one with --user or REBOOK_USER")
    return seller_create(username=_login_name())


def _login_name() -> str:
    try:
        return getpass.getuser() or "seller"
    except Exception:  # no login name in some containers
        return "seller"


@transaction.atomic
def seller_policy_set(*, seller: Seller, key: str, value: str) -> Seller:
    return seller_policy_update(seller=seller, values={key: value})


@transaction.atomic
def seller_policy_update(*, seller: Seller, values: dict[str, str]) -> Seller:
    """Change several policy keys at once (all or none), then re-evaluate every lead once.

    A bad value raises a RebookError naming its key; the errors of every bad key are collected first.
    """
    policy = seller.policy
    errors = []
    for key, value in values.items():
        try:
            policy = policy_set(policy, key, value)
        except RebookError as e:
            errors.append(e)
    if errors:
        raise PolicyErrors(errors)
    changed = [key for key in values if getattr(seller, key) != getattr(policy, key)]
    for key in changed:
        setattr(seller, key, getattr(policy, key))
    if changed:
        seller.save(update_fields=changed)
        leads_reevaluate_all(seller=seller)
    return seller


class PolicyErrors(RebookError):
    def __init__(self, errors: list[RebookError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@transaction.atomic
def seller_reason_phrases_set(*, seller: Seller, category: str, phrases: list[str] | None) -> Seller:
    """Replace one category's phrase list (None restores the shipped list)."""
    if category not in ALL_CATEGORIES:
        raise RebookError(f"unknown reason category {category!r}; known: {', '.join(ALL_CATEGORIES)}")
    edited = dict(seller.reason_phrases)
    if phrases is None:
        edited.pop(category, None)
    else:
        edited[category] = [p.strip().lower() for p in phrases if p.strip()]
    seller.reason_phrases = edited
    seller.save(update_fields=["reason_phrases"])
    return seller



def _clean_link(link: str) -> str:
    from django.core.validators import URLValidator

    link = link.strip()
    try:
        URLValidator(schemes=["http", "https"])(link)
    except ValidationError:
        raise RebookError(f"info pack link {link!r} is not a web address (http:// or https://)") from None
    return link


@transaction.atomic
def seller_info_pack_set(*, seller: Seller, text: str | None = None, links: list[str] | None = None) -> Seller:
    """Change the info pack's text and/or links; what is not given stays as it was."""
    fields = []
    if text is not None:
        seller.info_text = text.strip()
        fields.append("info_text")
    if links is not None:
        seller.info_links = [_clean_link(link) for link in links if link.strip()]
        fields.append("info_links")
    seller.save(update_fields=fields)
    return seller


@transaction.atomic
def seller_info_file_add(*, seller: Seller, name: str, data: bytes, content_type: str = "") -> InfoPackFile:
    """Attach a file to the info pack; a file of the same name is replaced."""
    import mimetypes

    name = name.strip().replace("/", "_").replace("\\", "_")
    if not name:
        raise RebookError("info pack file: the file needs a name")
    if len(data) > InfoPackFile.MAX_BYTES:
        raise RebookError(f"info pack file {name!r} is {len(data) // 1024} KiB; the limit is {InfoPackFile.MAX_BYTES // 1024} KiB")
    content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    row, _ = InfoPackFile.objects.update_or_create(
        seller=seller, name=name, defaults={"data": data, "content_type": content_type}
    )
    return row


@transaction.atomic
def seller_info_file_remove(*, seller: Seller, name: str) -> None:
    deleted, _ = InfoPackFile.objects.filter(seller=seller, name=name).delete()
    if not deleted:
        names = ", ".join(seller.info_files.values_list("name", flat=True)) or "none"
        raise RebookError(f"the info pack has no file named {name!r} (files: {names})")


LOGIN_PAUSE = timedelta(minutes=15)


WIDE = 4  # an address (any names), or an account from unknown browsers, gets this many times the limit


def login_wait(*, username: str, ip: str | None, now: datetime, known_browser: bool = False) -> timedelta | None:
    """How long until this try may be made, or None when it may be made now.

    Three counters over the last 15 minutes, each separate: this account from this address (the limit), this
    address for any names (four times the limit: an office shares one address), and this account from
    anywhere (four times the limit, and not for a browser that has signed in to it before). So someone
    else's failures never lock a seller out of their own account from a browser they use.
    """
    recent = LoginFailure.objects.filter(at__gt=now - LOGIN_PAUSE)
    name = username.lower()
    limit = settings.LOGIN_FAILURE_LIMIT
    counters = [
        (recent.filter(username=name, ip=ip) if ip else recent.filter(username=name, ip__isnull=True), limit),
        (recent.filter(ip=ip) if ip else None, limit * WIDE),
        (None if known_browser else recent.filter(username=name), limit * WIDE),
    ]
    waits = []
    for failures, allowed in counters:
        if failures is None:
            continue
        times = list(failures.order_by("-at").values_list("at", flat=True)[:allowed])
        if len(times) >= allowed:
            waits.append(times[-1] + LOGIN_PAUSE - now)
    return max(waits) if waits else None


@transaction.atomic
def login_failure_record(*, username: str, ip: str | None, now: datetime) -> None:
    LoginFailure.objects.filter(at__lt=now - LOGIN_PAUSE).delete()  # keep the table tiny
    LoginFailure.objects.create(username=username.lower()[:150], ip=ip, at=now)


@transaction.atomic
def login_success_record(*, username: str, ip: str | None) -> None:
    """A correct password clears this account's failures from this address (not the attacker's elsewhere)."""
    LoginFailure.objects.filter(username=username.lower(), ip=ip).delete()
