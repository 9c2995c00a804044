#!/usr/bin/env python3
"""Fails when a package with a known advisory is anywhere in the restore graph of the solution (or the project given).

The NuGet source served here publishes no vulnerability data (its service index has no VulnerabilityInfo resource and
its registrations no `vulnerabilities`), so `dotnet list package --vulnerable` finds nothing whatever the graph holds.
This runs NuGet's own audit instead: a forced restore with every configured package source and, as the audit source,
.ci/advisories.json (NuGet's vulnerability page format, kept by hand) served on loopback. `dotnet list package
--vulnerable` runs too, so advisories the package source does publish count as well.
"""
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ADVISORIES = os.path.join(HERE, "advisories.json")
FINDING = re.compile(r"(?:warning|error) (NU190[1-4]): (?:Warning As Error: )?(.*?)(?: \[[^\]]*\])?$")
NO_DATA = re.compile(r"(?:warning|error) (NU190[05]): (?:Warning As Error: )?(.*?)(?: \[[^\]]*\])?$")


def serve_advisories():
    with open(ADVISORIES, "rb") as file:
        page = file.read()
    json.loads(page)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            base = f"http://127.0.0.1:{self.server.server_port}"
            bodies = {
                "/index.json": json.dumps({"version": "3.0.0", "resources": [
                    {"@id": f"{base}/vulnerability/index.json", "@type": "VulnerabilityInfo/6.7.0"}]}).encode(),
                "/vulnerability/index.json": json.dumps([
                    {"@name": "base", "@id": f"{base}/vulnerability/base.json", "@updated": "2026-12-01T00:00:00Z"}]).encode(),
                "/vulnerability/base.json": page,
            }
            body = bodies.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def package_sources(target):
    listed = subprocess.run(["dotnet", "nuget", "list", "source", "--format", "short"], cwd=os.path.dirname(target),
                            capture_output=True, text=True, check=True).stdout
    return [line.split(" ", 1)[1].strip() for line in listed.splitlines() if line.startswith("E ")]


def nuget_config(sources, audit_source):
    def add(key, value, insecure=False):
        flag = ' allowInsecureConnections="true"' if insecure else ""
        return f'    <add key="{key}" value="{value}"{flag} />\n'
    return ('<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <packageSources>\n    <clear />\n'
            + "".join(add(f"source{i}", s) for i, s in enumerate(sources))
            + "  </packageSources>\n  <auditSources>\n    <clear />\n" + add("advisories", audit_source, insecure=True)
            + "  </auditSources>\n</configuration>\n")


def audit(target):
    """NuGetAudit over the whole graph (transitive included, every severity): the findings, or why it could not run."""
    server = serve_advisories()
    try:
        sources = package_sources(target)
        if not sources:
            return [], ["no enabled NuGet package source"]
        with tempfile.TemporaryDirectory() as folder:
            config = os.path.join(folder, "nuget.config")
            with open(config, "w") as file:
                file.write(nuget_config(sources, f"http://127.0.0.1:{server.server_port}/index.json"))
            # An unchanged graph restores as a no-op, which reports nothing: --force audits it again.
            restore = subprocess.run(["dotnet", "restore", target, "--force", "--configfile", config, "-p:NuGetAudit=true",
                                      "-p:NuGetAuditMode=all", "-p:NuGetAuditLevel=low"], capture_output=True, text=True)
    finally:
        server.shutdown()
    lines = (restore.stdout + restore.stderr).splitlines()
    findings = sorted({m.group(2) for m in map(FINDING.search, lines) if m})
    problems = sorted({m.group(2) for m in map(NO_DATA.search, lines) if m})
    if restore.returncode != 0 and not findings and not problems:
        problems = [f"dotnet restore failed ({restore.returncode}):"] + lines[-20:]
    return findings, problems


def listed_vulnerable(target):
    """What `dotnet list package --vulnerable` finds with the package sources' own vulnerability data."""
    run = subprocess.run(["dotnet", "list", target, "package", "--vulnerable", "--include-transitive", "--format", "json"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        return [], [f"dotnet list package --vulnerable failed ({run.returncode}): {run.stdout.strip()} {run.stderr.strip()}"]
    findings = set()
    for project in json.loads(run.stdout).get("projects", []):
        for framework in project.get("frameworks", []):
            for package in framework.get("topLevelPackages", []) + framework.get("transitivePackages", []):
                for vulnerability in package.get("vulnerabilities", []):
                    findings.add(f"Package '{package['id']}' {package['resolvedVersion']} has a known "
                                 f"{vulnerability['severity'].lower()} severity vulnerability, {vulnerability['advisoryurl']}")
    return sorted(findings), []


def main():
    target = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "Platform.sln"))
    findings, problems = audit(target)
    listed, list_problems = listed_vulnerable(target)
    findings, problems = sorted(set(findings) | set(listed)), problems + list_problems
    for finding in findings:
        print(f"Vulnerable package: {finding}")
    for problem in problems:
        print(f"Package audit could not run: {problem}")
    if findings or problems:
        return 1
    print(f"Package audit: no package with a known advisory in the restore graph of {os.path.relpath(target)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
