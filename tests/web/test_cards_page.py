"""The Cards page while cards are read: each waiting card asks for itself again, so a card read after the
seller began typing into another's form appears without the page reloading under them."""

from __future__ import annotations

from rebook.cards.models import CardUpload


def _upload(seller, name: str, status: str = CardUpload.Status.QUEUED, fields: dict | None = None) -> CardUpload:
    return CardUpload.objects.create(seller=seller, file=name, content_type="image/jpeg", data=b"\xff\xd8",
                                     status=status, fields=fields or {})


def test_a_waiting_card_polls_for_itself_and_a_read_one_has_its_form(alice, alice_client):
    read = _upload(alice, "one.jpg", CardUpload.Status.READ, {"name": "Dana Reyes", "emails": ["d@r.example"],
                                                            "phones": [], "confidence": {}})
    waiting = _upload(alice, "two.jpg")
    page = alice_client.get("/cards/").content.decode()
    assert f'id="card-{waiting.pk}"' in page and f'hx-get="/cards/{waiting.pk}/section/"' in page
    assert f'hx-get="/cards/{read.pk}/section/"' not in page  # a form being filled in is never swapped
    assert 'http-equiv="refresh"' not in page  # nor is the page reloaded under it
    part = alice_client.get(f"/cards/{waiting.pk}/section/").content.decode()
    assert "Waiting to be read" in part and "hx-trigger" in part
    CardUpload.objects.filter(pk=waiting.pk).update(status=CardUpload.Status.READ,
                                                    fields={"name": "Eve Example", "emails": [], "phones": []})
    part = alice_client.get(f"/cards/{waiting.pk}/section/").content.decode()
    assert "hx-trigger" not in part and "Save as a lead" in part and "Eve Example" in part


def test_with_only_waiting_cards_the_page_refreshes_itself_without_script_too(alice, alice_client):
    _upload(alice, "one.jpg")
    assert 'http-equiv="refresh"' in alice_client.get("/cards/").content.decode()


def test_another_sellers_card_section_is_404(alice, bob, client):
    theirs = _upload(bob, "theirs.jpg")
    client.force_login(alice.user)
    assert client.get(f"/cards/{theirs.pk}/section/").status_code == 404


def test_a_saved_card_leaves_the_page(alice, alice_client):
    row = _upload(alice, "one.jpg", CardUpload.Status.SAVED)
    answer = alice_client.get(f"/cards/{row.pk}/section/")
    assert answer.status_code == 200 and answer.content == b""


def test_phones_on_the_review_are_shown_as_people_write_them(alice, alice_client, settings):
    settings.REBOOK_PHONE_REGION = "US"
    home = _upload(alice, "home.jpg", CardUpload.Status.READ, {"name": "Dana Reyes", "emails": [],
                                                             "phones": ["+14158675309"], "confidence": {}})
    away = _upload(alice, "away.jpg", CardUpload.Status.READ, {"name": "Priya Nair", "emails": [],
                                                             "phones": ["+442079460958"], "confidence": {}})
    page = alice_client.get("/cards/").content.decode()
    assert 'value="(415) 867-5309"' in page and 'value="+44 20 7946 0958"' in page
    assert "+14158675309" not in page
    # Saved as typed or as shown, the number is kept in E.164.
    answer = alice_client.post(f"/cards/{home.pk}/save/", {f"card{home.pk}-name": "Dana Reyes",
                                                           f"card{home.pk}-phone": "(415) 867-5309"})
    assert answer.status_code == 302
    from rebook.leads.models import Lead

    assert Lead.objects.get(name="Dana Reyes").phone == "+14158675309"
    assert away.status == CardUpload.Status.READ
