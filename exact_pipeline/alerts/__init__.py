"""Alerts: what needs a person, posted once to a Slack-compatible webhook (no Dagster here;
the sensor in `defs/alerts` is the shell).

    findings.py   the causes that need a person now, each with a key stable while it lasts:
                  documents blocked, failing or flagged; the freshness promise broken; a
                  division's daily API budget nearly spent; the Exact login due or dead
    messages.py   a group of new findings as one Slack message (`text` plus `blocks`)
    announced.py  the causes already announced (state database): sent once while they last
    webhook.py    the HTTP POST, whose errors never name the URL (it is a secret)
    rounds.py     one round: forget what cleared, post what is new, remember what was posted
"""
