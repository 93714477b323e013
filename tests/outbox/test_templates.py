"""Templates: shipped defaults that read well, the seller's own versions, and refusal of broken ones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rebook.errors import RebookError
from rebook.leads.services import appointment_book, appointment_cancel
from rebook.outbox.compose import compose, default_template, render_source, sample_context, template_source
from rebook.outbox.models import MessageTemplate, PlannedMessage
from rebook.outbox.services import template_reset, template_save
from rebook.outbox.templating import TemplateError, compile_template
from rebook.strategy.followups import MESSAGE_KINDS
from tests.clirunner import Rebook
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.mark.parametrize("kind", MESSAGE_KINDS)
def test_every_default_renders_for_the_sample_lead_without_gaps(alice, kind):
    subject, text, html = render_source(default_template(kind), sample_context(alice, NOW))
    assert subject and "\n" not in subject
    assert "Hello Sam," in text and "<p>Hello Sam,</p>" in html
    assert text.rstrip().endswith("Alice Adams") or "unsubscribe" in text
    for rendered in (subject, text, html):
        assert "{{" not in rendered and "{%" not in rendered and "None" not in rendered


def test_a_syntax_error_is_refused_with_its_line():
    with pytest.raises(TemplateError) as error:
        compile_template("Hello\n\n{% if lead.name %}\nno end", part="text body")
    assert (error.value.part, error.value.line) == ("text body", 3)
    assert "text body, line 3" in str(error.value) and "endif" in str(error.value)


def test_an_unknown_variable_is_refused_with_its_line_and_name():
    with pytest.raises(TemplateError, match=r"text body, line 2: unknown variable 'lead.nmae'; available: lead.company"):
        compile_template("Hello\n{{ lead.nmae }}", part="text body")
    with pytest.raises(TemplateError, match=r"line 3: unknown variable 'prospect'"):
        compile_template("a\nb\n{% if prospect %}x{% endif %}", part="subject")
    with pytest.raises(TemplateError, match=r"line 1: unknown variable 'colour'"):
        compile_template("{% for slot in slots %}{{ slot|default:colour }}{% endfor %}", part="subject")


def test_loop_variables_exist_only_inside_their_loop():
    compile_template("{% for link in info.links %}{{ forloop.counter }}. {{ link }}{% endfor %}", part="t")
    with pytest.raises(TemplateError, match="unknown variable 'link'"):
        compile_template("{% for link in info.links %}{% endfor %}{{ link }}", part="t")


@pytest.mark.parametrize("source", ['{% include "x.html" %}', "{% load static %}", "{% url 'unsubscribe' 1 %}"])
def test_tags_that_reach_outside_the_message_are_refused(source):
    with pytest.raises(TemplateError, match="line 1"):
        compile_template(source, part="text body")


def test_a_saved_template_is_used_and_a_broken_one_leaves_the_previous_in_use(alice, charlie):
    template_save(seller=alice, kind="booking_followup", subject="Our chat on {{ appointment.date }}",
                  text="Hi {{ lead.first_name }}!\nSee you {{ appointment.when }}.", html="")
    with pytest.raises(RebookError, match=r"text body, line 2: unknown variable 'appointment.wen'"):
        template_save(seller=alice, kind="booking_followup", subject="x", text="Hi\n{{ appointment.wen }}")
    source = template_source(alice, "booking_followup")
    assert source.custom and source.subject == "Our chat on {{ appointment.date }}"

    start = NOW + timedelta(days=3)
    appointment_book(lead=charlie, start=start, end=start + timedelta(hours=1))
    composed = compose(PlannedMessage.objects.get(lead=charlie), NOW)
    assert composed.subject == "Our chat on Thursday 5 March"
    assert composed.text == "Hi Charlie!\nSee you Thursday 5 March 2026 at 9:00 AM EST.\n"
    assert composed.html == ""  # the seller chose text-only mail

    template_reset(seller=alice, kind="booking_followup")
    assert not MessageTemplate.objects.exists()
    assert compose(PlannedMessage.objects.get(lead=charlie), NOW).subject.startswith("Looking forward")


def test_times_are_shown_in_the_leads_own_zone(alice, charlie):
    charlie.timezone = "Europe/Paris"
    charlie.save()
    start = NOW + timedelta(days=3)
    appointment_book(lead=charlie, start=start, end=start + timedelta(hours=1))
    text = compose(PlannedMessage.objects.get(lead=charlie), NOW).text
    assert "Thursday 5 March 2026 at 3:00 PM CET" in text


def test_a_reschedule_offer_suggests_free_times_in_working_hours(alice, charlie):
    tuesday = NOW + timedelta(days=1)  # Tuesday 09:00 in New York
    appointment_book(lead=charlie, start=tuesday, end=tuesday + timedelta(hours=2))  # Tuesday morning is taken
    missed = appointment_book(lead=charlie, start=tuesday + timedelta(days=7), end=tuesday + timedelta(days=7, minutes=30))
    appointment_cancel(appointment=missed, by="seller", reason="ill")
    offer = PlannedMessage.objects.get(lead=charlie, kind="reschedule_offer")
    offered = [line for line in compose(offer, NOW).text.splitlines() if line.startswith("- ")]
    assert offered == [
        "- Tuesday 3 March 2026 at 11:00 AM EST",  # the first free hour after the other meeting
        "- Wednesday 4 March 2026 at 1:00 PM EST",  # an afternoon, for choice
        "- Thursday 5 March 2026 at 9:00 AM EST",
    ]


def test_template_commands_show_preview_and_refuse_a_bad_file(alice, tmp_path):
    rebook = Rebook()
    listing = rebook.json("template", "list")
    assert {t["kind"] for t in listing} == set(MESSAGE_KINDS) and not any(t["custom"] for t in listing)
    document = rebook("template", "show", "nurture_move").stdout
    assert document.startswith("Subject: No pressure at all")

    bad = tmp_path / "bad.txt"
    bad.write_text(document.replace("{{ lead.first_name }}", "{{ lead.firstname }}", 1))
    error = rebook.error("template", "edit", "nurture_move", "--file", str(bad))
    assert "text body, line 1: unknown variable 'lead.firstname'" in error
    assert error.endswith("The previous version stays in use")
    assert not MessageTemplate.objects.exists()

    good = tmp_path / "good.txt"
    good.write_text(document.replace("No pressure at all", "Always here for you"))
    rebook("template", "edit", "nurture_move", "--file", str(good))
    assert rebook.json("template", "preview", "nurture_move")["subject"] == "Always here for you"
    rebook("template", "edit", "nurture_move", "--subject", "Hello {{ lead.first_name }}")
    assert rebook.json("template", "preview", "nurture_move")["subject"] == "Hello Sam"
    rebook("template", "reset", "nurture_move")
    assert rebook.json("template", "show", "nurture_move")["custom"] is False


def test_a_template_edited_in_the_editor_and_refused_is_kept_in_a_draft(alice, monkeypatch, settings, tmp_path):
    import click

    settings.REBOOK_HOME = tmp_path
    monkeypatch.setattr(click, "edit", lambda text, **kw: text.replace("{{ seller.name }}", "{{ seller.nom }}"))
    error = Rebook().error("template", "edit", "confirmation")
    assert "unknown variable 'seller.nom'" in error
    [draft] = (tmp_path / "drafts").iterdir()
    assert "{{ seller.nom }}" in draft.read_text() and str(draft) in error


def test_the_info_pack_commands(alice, tmp_path):
    rebook = Rebook()
    rebook("infopack", "set", "--text", "A one-page guide.", "--link", "https://example.com/guide")
    pdf = tmp_path / "guide.pdf"
    pdf.write_bytes(b"%PDF")
    data = rebook.json("infopack", "attach", str(pdf))
    assert data == {"text": "A one-page guide.", "links": ["https://example.com/guide"],
                    "files": [{"name": "guide.pdf", "type": "application/pdf"}]}
    assert "not a web address" in rebook.error("infopack", "set", "--link", "javascript:alert(1)")
    assert "no file named 'x.pdf'" in rebook.error("infopack", "detach", "x.pdf")
    assert rebook.json("infopack", "detach", "guide.pdf")["files"] == []
    assert rebook.json("infopack", "set", "--no-links")["links"] == []


def test_markup_in_a_leads_details_is_escaped_in_the_html_body_only(alice):
    from rebook.leads.services import lead_create

    lead = lead_create(seller=alice, name="<script>alert(1)</script> Eve", email="eve@example.com", company="A & B")
    start = NOW + timedelta(days=3)
    appointment_book(lead=lead, start=start, end=start + timedelta(hours=1))
    composed = compose(PlannedMessage.objects.get(lead=lead), NOW)
    assert "<script>" not in composed.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in composed.html
    assert "A &amp; B" in composed.html
    assert "A & B" in composed.text  # the text body is plain text: nothing to escape
