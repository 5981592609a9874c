"""Old name of ``release_expired_holds``, kept because deployed cron jobs still call it."""

from inventory.management.commands import release_expired_holds


class Command(release_expired_holds.Command):
    help = f"Alias of release_expired_holds. {release_expired_holds.Command.help}"
