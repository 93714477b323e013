"""Add from cards: upload photos of business cards (the worker reads them), review each, save as leads."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from rebook.cards.models import CardUpload
from rebook.cards.services import card_dismiss, card_review_save, cards_enqueue
from rebook.errors import RebookError
from rebook.web.forms import CardReviewForm, CardUploadForm
from rebook.web.views.base import counted, done, image_response, seller_view


def _page(request, upload_form: CardUploadForm, bound: CardReviewForm | None = None, status: int = 200):
    rows = list(CardUpload.objects.filter(seller=request.seller).exclude(status=CardUpload.Status.SAVED)
                .defer("data").order_by("created_at", "id"))
    reviews = []
    for row in rows:
        form = bound if bound is not None and bound.prefix == f"card{row.pk}" else (
            CardReviewForm.for_upload(row) if row.status == CardUpload.Status.READ else None)
        reviews.append((row, form))
    queued = sum(row.status == CardUpload.Status.QUEUED for row in rows)
    saved = list(CardUpload.objects.filter(seller=request.seller, status=CardUpload.Status.SAVED, lead__isnull=False)
                 .select_related("lead").defer("data").order_by("-id")[:10])
    return render(request, "web/cards.html", {
        "upload_form": upload_form, "reviews": reviews, "queued": queued, "saved": saved,
        # Refreshed while cards are being read, but never under a form the seller may be filling in.
        "refresh": queued and not any(form is not None for _, form in reviews),
    }, status=status)


@seller_view
def cards(request):
    form = CardUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            files = [(f.name, f.read()) for f in form.cleaned_data["photos"]]
            try:
                cards_enqueue(seller=request.seller, files=files, event=form.cleaned_data["event"])
            except RebookError as e:
                form.add_error("photos", str(e))
            else:
                return done(request, f"{counted(len(files), 'card')} uploaded; "
                                     "each is read in a few seconds.", "cards")
        return _page(request, form, status=400)
    return _page(request, CardUploadForm())


def _upload(request, upload_id: int) -> CardUpload:
    row = CardUpload.objects.filter(seller=request.seller, pk=upload_id).first()
    if row is None:
        raise Http404("no such card")
    return row


@seller_view
@require_POST
def card_review(request, upload_id: int):
    row = _upload(request, upload_id)
    form = CardReviewForm.for_upload(row, request.POST)
    if row.status == CardUpload.Status.READ and form.is_valid():
        try:
            lead = card_review_save(seller=request.seller, upload=row, **form.cleaned_data)
        except RebookError as e:
            form.add_error(None, str(e))
        else:
            return done(request, f"Saved {lead.name}. They are on Today's \"Cards to call\".", "cards")
    elif row.status != CardUpload.Status.READ:
        form.add_error(None, "This card is not waiting for review.")
    return _page(request, CardUploadForm(), bound=form, status=400)


@seller_view
@require_GET
def card_section(request, upload_id: int):
    """One card's part of the page, as it is now: what a waiting card asks for every few seconds."""
    row = _upload(request, upload_id)
    if row.status == CardUpload.Status.SAVED:
        return HttpResponse("")  # saved in another tab: its part goes
    form = CardReviewForm.for_upload(row) if row.status == CardUpload.Status.READ else None
    return render(request, "web/_card_review.html", {"row": row, "form": form})


@seller_view
@require_POST
def card_dismiss_view(request, upload_id: int):
    card_dismiss(seller=request.seller, upload=_upload(request, upload_id))
    return done(request, "Card removed from the list.", "cards")


@seller_view
@require_GET
def card_photo(request, upload_id: int):
    """The uploaded photo, beside its review form."""
    row = _upload(request, upload_id)
    if not row.data:
        raise Http404("no photo")
    return image_response(bytes(row.data), row.content_type, f"card-{row.pk}")
