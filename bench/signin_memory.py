#!/usr/bin/env python3
"""Resident memory of a running agentdesk before and after bursts of concurrent sign-ins.

Usage: bench/signin_memory.py BASE_URL PID [BURSTS...]
  e.g. AGENTDESK_TRUSTED_PROXIES=127.0.0.1 agentdesk serve &
       bench/signin_memory.py http://127.0.0.1:8080 $(pgrep -f 'agentdesk serve') 33 100

Each burst sends that many sign-in attempts at once, each from its own client address (through
X-Forwarded-For, so start the server with AGENTDESK_TRUSTED_PROXIES=127.0.0.1) and for its own
e-mail, so the throttle does not stop them: every one runs argon2id (an unknown e-mail is checked
against a dummy hash, exactly as long). Then it waits for the server to go idle and reads VmRSS
from /proc. Standard library only.
"""
import http.cookiejar
import re
import sys
import threading
import time
import urllib.parse
import urllib.request


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def sign_in(base, email, password, results, client):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"email": email, "password": password, "_csrf": token}).encode()
    req = urllib.request.Request(base + "/login", body, {"X-Forwarded-For": client})
    try:
        opener.open(req)
        results.append(True)
    except urllib.error.HTTPError as e:
        results.append(e.code)


def main():
    base, pid = sys.argv[1:3]
    bursts = [int(n) for n in sys.argv[3:]] or [33]
    time.sleep(1)
    print(f"idle at start: {rss_mb(pid):.1f} MB")
    for n in bursts:
        results = []
        threads = [
            threading.Thread(
                target=sign_in,
                args=(base, f"bench{i}-{time.time_ns()}@example.com", "not-the-password", results,
                      f"10.{i // 250}.{i % 250}.{len(bursts)}"),
            )
            for i in range(n)
        ]
        peak = 0.0
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss_mb(pid))
            time.sleep(0.02)
        time.sleep(2)
        hashed = sum(1 for r in results if r in (True, 401))
        print(f"{n} concurrent sign-in attempts ({hashed} checked): peak {peak:.1f} MB, "
              f"idle after {rss_mb(pid):.1f} MB")


if __name__ == "__main__":
    main()
