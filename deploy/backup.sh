#!/bin/sh
# One backup of the bot's database, then rotation: the newest $BACKUP_KEEP copies stay.
#
#   deploy/backup.sh PETITION-BOT-COMMAND...
#   e.g. deploy/backup.sh /opt/petition-bot/.venv/bin/petition-bot --env-file /etc/petition-bot/env
#
# The copy is made by `petition-bot admin backup` (SQLite's online backup API: consistent
# while the bot runs). Backups hold personal data: mode 0600, and rotation means a
# forgotten supporter's data leaves the backups after BACKUP_KEEP days.
set -eu

BACKUP_DIR="${BACKUP_DIR:-/var/lib/petition-bot/backups}"
BACKUP_KEEP="${BACKUP_KEEP:-14}"
if [ "$#" -eq 0 ]; then
    set -- petition-bot
fi
case "$BACKUP_KEEP" in
    ''|*[!0-9]*|0) echo "backup.sh: BACKUP_KEEP must be a whole number of copies, at least 1" >&2; exit 2 ;;
esac

umask 077
mkdir -p "$BACKUP_DIR"
target="$BACKUP_DIR/petition-$(date -u +%Y%m%dT%H%M%SZ).sqlite3"
"$@" admin backup "$target"

# Names sort by date; everything after the newest $BACKUP_KEEP goes.
ls -1 "$BACKUP_DIR" | grep -E '^petition-[0-9]{8}T[0-9]{6}Z\.sqlite3$' | sort -r | tail -n "+$((BACKUP_KEEP + 1))" |
    while read -r old; do
        rm -f -- "$BACKUP_DIR/$old"
        echo "backup.sh: removed old backup $old"
    done
