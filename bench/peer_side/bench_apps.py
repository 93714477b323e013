"""AppConfigs for benchmarking DjangoCRM: same as the peer's, minus background threads."""
from queue import Queue

from analytics.apps import AnalyticsConfig
from common.apps import CommonConfig
from crm.apps import CrmConfig
from massmail.apps import MassmailConfig


class BenchCommonConfig(CommonConfig):
    def ready(self):
        from common.signals.handlers import user_creation_handler   # NOQA
        from common.utils.notif_email_sender import NotifEmailSender
        self.nes = NotifEmailSender()   # not started: queued notifications are dropped


class BenchCrmConfig(CrmConfig):
    def ready(self):
        # Built as in CrmConfig.ready(); UserMiddleware still calls import_emails() per request
        # (one EmailAccount query), but nothing consumes the queue.
        from crm.utils.import_emails import ImportEmails
        from crm.utils.manage_imaps import CrmImapManager
        ea_queue = Queue()
        self.inq_eml_queue = Queue(2)
        self.eml_queue = Queue(4)
        self.mci = CrmImapManager(ea_queue)
        self.im = ImportEmails(ea_queue, self.eml_queue)


class BenchMassmailConfig(MassmailConfig):
    def ready(self):
        pass


class BenchAnalyticsConfig(AnalyticsConfig):
    def ready(self):
        pass
