"""API tokens in the web app: create (shown once), list, revoke."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_POST

from rebook.api.models import ApiToken
from rebook.api.services import token_create, token_revoke
from rebook.errors import RebookError
from rebook.web.views.base import done, seller_view


@seller_view
def tokens(request):
    created = None
    if request.method == "POST":
        row, created = token_create(seller=request.seller, name=request.POST.get("name", ""))
    return render(request, "web/tokens.html", {
        "tokens": ApiToken.objects.filter(seller=request.seller), "created": created,
    })


@seller_view
@require_POST
def token_revoke_view(request, token_id: int):
    try:
        token_revoke(seller=request.seller, token_id=token_id)
    except RebookError as e:
        raise Http404(str(e)) from None  # another seller's token, like any object not theirs
    return done(request, "Revoked: requests with that token are refused from now on.", "tokens")
