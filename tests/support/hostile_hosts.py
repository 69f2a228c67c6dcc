"""Connection Host values that try to send a destination's token somewhere other than the local sandbox.

Each entry is (family, template); ``{port}`` is a listener's port, so a client that followed the trick
would reach that listener (or try a non-loopback address). Families: backslash, userinfo, ``#``/``?``,
path, whitespace and control characters, unicode look-alikes, numeric IPs, trailing dots, IPv6 forms,
metadata hosts, schemes and ports, CleverTap's own hosts misused. Every one must be refused by every
vendor (issue 17, requirement 1).
"""

from __future__ import annotations

HOSTILE_HOSTS: tuple[tuple[str, str], ...] = (
    # urlsplit and urllib3 read different hosts around a backslash
    ("backslash", "http://attacker.example:{port}\\@localhost"),
    ("backslash", "http://127.0.0.1:{port}\\@localhost:1"),
    ("backslash", "http://attacker.example:{port}\\@127.0.0.1:{port}"),
    ("backslash", "http:\\\\attacker.example:{port}"),
    ("backslash", "http://localhost:{port}\\attacker.example"),
    ("backslash", "\\\\attacker.example:{port}"),
    # user information: the host is what follows the last '@', or not
    ("userinfo", "http://attacker.example@127.0.0.1:{port}"),
    ("userinfo", "http://pat-na1-secret:x@localhost:{port}"),
    ("userinfo", "http://localhost:{port}@attacker.example"),
    ("userinfo", "http://127.0.0.1:{port}@attacker.example:{port}"),
    ("userinfo", "http://@localhost:{port}"),
    ("userinfo", "localhost:{port}@attacker.example"),
    ("userinfo", "http://localhost%40attacker.example:{port}"),
    # fragments and queries that hide the real host
    ("fragment-query", "http://attacker.example:{port}#@localhost"),
    ("fragment-query", "http://attacker.example:{port}?@localhost"),
    ("fragment-query", "http://localhost:{port}#@attacker.example"),
    ("fragment-query", "http://localhost:{port}?next=http://attacker.example"),
    ("fragment-query", "http://attacker.example:{port}/#localhost"),
    ("fragment-query", "http://localhost:{port}/#"),
    ("fragment-query", "http://localhost:{port}?"),
    # paths with tricks
    ("path", "http://localhost:{port}/../attacker"),
    ("path", "http://localhost:{port}/./v1"),
    ("path", "http://localhost:{port}//attacker.example"),
    ("path", "http://localhost:{port}/v1;attacker"),
    ("path", "http://localhost:{port}/%2e%2e/"),
    ("path", "http://localhost:{port}/us1/.."),
    # whitespace and control characters
    ("whitespace-control", "http://localhost:{port} "),
    ("whitespace-control", " http://localhost:{port}"),
    ("whitespace-control", "http://attacker.example:{port}\t@localhost"),
    ("whitespace-control", "http://localhost:{port}\r\nHost: attacker.example"),
    ("whitespace-control", "http://local\x00host:{port}"),
    ("whitespace-control", "http://localhost\n:{port}"),
    ("whitespace-control", "http://localhost:{port}\x7f"),
    # unicode look-alikes (NFKC folds some of them to ASCII)
    ("unicode", "http://\u24dbocalhost:{port}"),  # circled l
    ("unicode", "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{port}"),  # fullwidth digits
    ("unicode", "http://127\u30020\u30020\u30021:{port}"),  # ideographic full stops
    ("unicode", "http://l\u043ecalhost:{port}"),  # Cyrillic o
    ("unicode", "http://localhost:{port}\u2044attacker.example"),  # fraction slash
    ("unicode", "http://attacker.example:{port}\uff03@localhost"),  # fullwidth '#'
    ("unicode", "http://localhost\u200b:{port}"),  # zero-width space
    # numeric forms of 127.0.0.1 and other loopback or any addresses
    ("numeric-ip", "http://2130706433:{port}"),
    ("numeric-ip", "http://0x7f000001:{port}"),
    ("numeric-ip", "http://0x7f.1:{port}"),
    ("numeric-ip", "http://127.1:{port}"),
    ("numeric-ip", "http://0177.0.0.1:{port}"),
    ("numeric-ip", "http://127.0.0.01:{port}"),
    ("numeric-ip", "http://127.0.1:{port}"),
    ("numeric-ip", "http://127.0.0.2:{port}"),
    ("numeric-ip", "http://0.0.0.0:{port}"),
    ("numeric-ip", "http://0:{port}"),
    # trailing dots and look-alike domains
    ("trailing-dot", "http://localhost.:{port}"),
    ("trailing-dot", "http://127.0.0.1.:{port}"),
    ("trailing-dot", "http://localhost..:{port}"),
    ("trailing-dot", "http://localhost.attacker.example:{port}"),
    ("trailing-dot", "http://127.0.0.1.nip.io:{port}"),
    # IPv6 forms other than ::1
    ("ipv6", "http://[::ffff:127.0.0.1]:{port}"),
    ("ipv6", "http://[0:0:0:0:0:0:0:1]:{port}"),
    ("ipv6", "http://[::0001]:{port}"),
    ("ipv6", "http://[::1%25lo]:{port}"),
    ("ipv6", "http://[::]:{port}"),
    ("ipv6", "http://::1:{port}"),
    ("ipv6", "http://[::ffff:7f00:1]:{port}"),
    ("ipv6", "http://[::1]attacker.example:{port}"),
    # cloud metadata services
    ("metadata", "http://169.254.169.254"),
    ("metadata", "http://169.254.169.254:{port}"),
    ("metadata", "http://metadata.google.internal"),
    ("metadata", "metadata.google.internal:80"),
    ("metadata", "http://[fd00:ec2::254]"),
    ("metadata", "http://100.100.100.200"),
    # schemes and ports
    ("scheme-port", "file:///etc/passwd"),
    ("scheme-port", "ftp://localhost:{port}"),
    ("scheme-port", "//attacker.example:{port}"),
    ("scheme-port", "http:/localhost:{port}"),
    ("scheme-port", "https://attacker.example"),
    ("scheme-port", "http://localhost:{port}:{port}"),
    ("scheme-port", "http://localhost:0"),
    ("scheme-port", "http://localhost:99999"),
    ("scheme-port", "http://localhost:0{port}"),
    ("scheme-port", "http://localhost:+{port}"),
    ("scheme-port", "http://localhost:"),
    # CleverTap's own hosts, misused (refused for CleverTap too; never local for the others)
    ("clevertap-host", "https://us1.api.clevertap.com.attacker.example"),
    ("clevertap-host", "https://attacker.example/us1.api.clevertap.com"),
    ("clevertap-host", "http://us1.api.clevertap.com"),
    ("clevertap-host", "https://us1.api.clevertap.com:{port}"),
    ("clevertap-host", "https://us1.api.clevertap.com/1"),
    ("clevertap-host", "https://in1.api.clevertap.com"),
)


def hostile_hosts(port: int) -> list[tuple[str, str]]:
    """(test id, Host) of every candidate, aimed at ``port``."""
    return [(f"{family}-{index}", template.format(port=port)) for index, (family, template) in enumerate(HOSTILE_HOSTS)]
