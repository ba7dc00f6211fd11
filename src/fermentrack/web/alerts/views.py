"""Pages of the alerts app: the rules with their state, adding, editing and deleting a rule, the
mail settings with a test message, and the history of what was sent."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fermentrack.web.alerts.forms import AlertRuleForm, MailSettingsForm, TestMessageForm
from fermentrack.web.alerts.models import AlertEvent, AlertRule, MailSettings
from fermentrack.web.brewery.access import can_change, change_required
from fermentrack.web.brewery.models import BrewerySettings

log = logging.getLogger("fermentrack.alerts")

EVENTS_PER_PAGE = 25


def _list(request, *, mail_form=None, test_form=None, status: int = 200):
    rules = AlertRule.objects.select_related("device", "beer", "beer__device", "sensor")
    device = request.GET.get("device")
    if device:
        rules = rules.filter(Q(device__name=device) | Q(beer__device__name=device))
    editing = can_change(request.user)
    mail = MailSettings.load()
    events = AlertEvent.objects.select_related("rule")
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "rules": [(rule, rule.last_event()) for rule in rules],
        "device": device,
        "mail": mail,
        "mail_form": (mail_form or MailSettingsForm(instance=mail)) if editing else None,
        "test_form": (test_form or TestMessageForm(initial={"to": request.user.email}))
        if editing
        else None,
        "page": page,
    }
    with timezone.override(BrewerySettings.load().zone()):
        return render(request, "alerts/alert_list.html", context, status=status)


@login_required
def alert_list(request):
    """Anyone logged in may look (guests included); only those who may change get the forms."""
    return _list(request)


@change_required
def alert_add(request):
    initial = {}
    if request.GET.get("device"):
        from fermentrack.web.devices.models import Device

        initial["device"] = Device.objects.filter(name=request.GET["device"]).first()
    form = AlertRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        rule = form.save()
        log.info("alert rule %s added by %s: %s", rule.pk, request.user, rule.describe())
        messages.success(request, f"Added the alert {rule.describe()}.")
        return redirect("alert_list")
    return render(request, "alerts/rule_form.html", {"form": form, "rule": None})


@change_required
def alert_edit(request, pk: int):
    rule = get_object_or_404(AlertRule, pk=pk)
    form = AlertRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        rule = form.save()
        log.info("alert rule %s changed by %s: %s", rule.pk, request.user, rule.describe())
        messages.success(request, f"Saved the alert {rule.describe()}.")
        return redirect("alert_list")
    return render(request, "alerts/rule_form.html", {"form": form, "rule": rule})


@change_required
def alert_delete(request, pk: int):
    rule = get_object_or_404(AlertRule, pk=pk)
    if request.method == "POST":
        described = rule.describe()
        rule.delete()
        log.info("alert rule %s deleted by %s: %s", pk, request.user, described)
        messages.success(request, f"Deleted the alert {described} with its history.")
        return redirect("alert_list")
    return render(
        request,
        "alerts/rule_confirm_delete.html",
        {"rule": rule, "event_count": rule.events.count()},
    )


@require_POST
@change_required
def mail_settings(request):
    form = MailSettingsForm(request.POST, instance=MailSettings.load())
    if not form.is_valid():
        return _list(request, mail_form=form, status=400)
    form.save()
    log.info("mail settings changed by %s", request.user)
    messages.success(request, "Saved the mail settings.")
    return redirect("alert_list")


@require_POST
@change_required
def mail_test(request):
    form = TestMessageForm(request.POST)
    if not form.is_valid():
        return _list(request, test_form=form, status=400)
    to = form.cleaned_data["to"]
    try:
        MailSettings.load().send(
            [to],
            "Fermentrack: test message",
            "This is a test message from Fermentrack's alerts: the mail settings work.",
        )
    except Exception as error:
        log.warning("test message to %s failed: %s: %s", to, type(error).__name__, error)
        messages.error(request, f"The test message to {to} was not sent: {error}")
    else:
        log.info("test message sent to %s", to)
        messages.success(request, f"Sent a test message to {to}: check the inbox.")
    return redirect("alert_list")
