from __future__ import annotations

from django.urls import path

from rebook.web.views import appointments, auth, leads, outbox, reports, setup, today

urlpatterns = [
    path("", today.today, name="today"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("leads/", leads.lead_list, name="leads"),
    path("leads/new/", leads.lead_new, name="lead_new"),
    path("leads/<int:lead_id>/", leads.lead_detail, name="lead"),
    path("leads/<int:lead_id>/edit/", leads.lead_edit, name="lead_edit"),
    path("leads/<int:lead_id>/log/", leads.lead_log, name="lead_log"),
    path("leads/<int:lead_id>/book/", leads.lead_book, name="lead_book"),
    path("leads/<int:lead_id>/not-interested/", leads.lead_not_interested, name="lead_not_interested"),
    path("leads/<int:lead_id>/reactivate/", leads.lead_reactivate, name="lead_reactivate"),
    path("leads/<int:lead_id>/qualify/", leads.lead_qualify, name="lead_qualify"),
    path("leads/<int:lead_id>/status/", leads.lead_set_status, name="lead_set_status"),
    path("nurture/", leads.nurture, name="nurture"),
    path("appointments/<int:appointment_id>/cancel/", appointments.appointment_cancel, name="appointment_cancel"),
    path("appointments/<int:appointment_id>/reschedule/", appointments.appointment_reschedule, name="appointment_reschedule"),
    path("appointments/<int:appointment_id>/held/", appointments.appointment_held, name="appointment_held"),
    path("appointments/<int:appointment_id>/no-show/", appointments.appointment_no_show, name="appointment_no_show"),
    path("reasons/suggest/", appointments.reason_suggestion, name="reason_suggestion"),
    path("cancellations/<int:cancellation_id>/judge/", appointments.cancellation_judge, name="cancellation_judge"),
    path("cancellations/<int:cancellation_id>/checklist/<slug:step>/", appointments.checklist_tick, name="checklist_tick"),
    path("outbox/", outbox.outbox, name="outbox"),
    path("outbox/<int:message_id>/", outbox.message_detail, name="message"),
    path("outbox/<int:message_id>/approve/", outbox.message_approve, name="message_approve"),
    path("outbox/<int:message_id>/discard/", outbox.message_discard, name="message_discard"),
    path("templates/", setup.templates, name="templates"),
    path("templates/<slug:kind>/", setup.template_edit, name="template"),
    path("templates/<slug:kind>/preview/", setup.template_preview, name="template_preview"),
    path("templates/<slug:kind>/reset/", setup.template_reset_view, name="template_reset"),
    path("info-pack/", setup.infopack, name="infopack"),
    path("info-pack/remove/", setup.infopack_remove, name="infopack_remove"),
    path("policy/", setup.policy, name="policy"),
    path("reports/", reports.report, name="reports"),
    path("team/", reports.team, name="team"),
]
