#!/usr/bin/env python3
"""Drive a pve-testhost node with proxmoxer, a PVE client written elsewhere.

Both of proxmoxer's authentication methods are used, TLS is verified against the node's
CA file, and a container is created, configured, started, stopped and deleted.

Environment: PVE_HOST, PVE_PORT, PVE_NODE, PVE_CA (CA PEM file), PVE_TOKEN
(`root@pam!pvelxc=SECRET`), PVE_PASSWORD (root@pam), PVE_VMID, PVE_BIND_DIR (a host
directory for a bind mount). Exits non-zero with a message on the first failed check.
"""
import os
import sys
import time

from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"missing environment variable {name}")
    return value


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def wait(api, node, upid, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = api.nodes(node).tasks(upid).status.get()
        if status["status"] == "stopped":
            if status.get("exitstatus") != "OK":
                log = api.nodes(node).tasks(upid).log.get(limit=100)
                lines = "\n".join(entry["t"] for entry in log)
                raise AssertionError(f"task {upid} failed: {status.get('exitstatus')}\n{lines}")
            return status
        time.sleep(0.5)
    raise AssertionError(f"task {upid} did not finish in {timeout}s")


def main():
    host, port, node = env("PVE_HOST"), int(env("PVE_PORT")), env("PVE_NODE")
    ca, vmid, bind_dir = env("PVE_CA"), int(env("PVE_VMID")), env("PVE_BIND_DIR")
    user_token, secret = env("PVE_TOKEN").rsplit("=", 1)
    user, token_name = user_token.split("!", 1)

    token = ProxmoxAPI(host, port=port, user=user, token_name=token_name,
                       token_value=secret, verify_ssl=ca, timeout=60)
    ticket = ProxmoxAPI(host, port=port, user="root@pam", password=env("PVE_PASSWORD"),
                        verify_ssl=ca, timeout=60)

    version = token.version.get()
    check(version["version"].startswith("9."), f"unexpected version {version}")

    templates = token.nodes(node).storage("local").content.get(content="vztmpl")
    check(templates, "no template in local:vztmpl")
    template = templates[0]["volid"]

    # Invalid input is refused with PVE's 400 and the parameter named.
    try:
        token.nodes(node).lxc.post(vmid=vmid, ostemplate=template, net0="bridge=vmbr0")
        raise AssertionError("invalid net0 was accepted")
    except ResourceException as err:
        check(err.status_code == 400, f"expected 400, got {err.status_code}")
        check("net0" in (err.errors or {}), f"errors do not name net0: {err.errors}")

    created = time.monotonic()
    upid = token.nodes(node).lxc.post(
        vmid=vmid, ostemplate=template, hostname="proxmoxer", memory=256, swap=0,
        rootfs="local:1", net0="name=eth0,bridge=vmbr0,ip=dhcp", unprivileged=1)
    check(upid.startswith(f"UPID:{node}:") and ":vzcreate:" in upid, f"bad UPID {upid}")
    wait(token, node, upid)
    create_seconds = time.monotonic() - created

    # Configure with the token; a bind mount needs root@pam (ticket).
    token.nodes(node).lxc(vmid).config.put(cores=1, description="created by proxmoxer")
    try:
        token.nodes(node).lxc(vmid).config.put(mp0=f"{bind_dir},mp=/mnt/bind,ro=1")
        raise AssertionError("token was allowed a bind mount")
    except ResourceException as err:
        check(err.status_code == 403, f"expected 403, got {err.status_code}")
        check("mount point type bind is only allowed for root@pam" in str(err), str(err))
    ticket.nodes(node).lxc(vmid).config.put(mp0=f"{bind_dir},mp=/mnt/bind,ro=1")
    config = ticket.nodes(node).lxc(vmid).config.get()
    check(config["mp0"] == f"{bind_dir},mp=/mnt/bind,ro=1", f"mp0 not stored: {config}")
    check(config["cores"] == 1 and config["description"].startswith("created by proxmoxer"), str(config))

    # A stale digest is refused.
    digest = config["digest"]
    ticket.nodes(node).lxc(vmid).config.put(memory=512, digest=digest)
    try:
        ticket.nodes(node).lxc(vmid).config.put(memory=384, digest=digest)
        raise AssertionError("stale digest was accepted")
    except ResourceException as err:
        check("detected modified configuration" in str(err), str(err))

    started = time.monotonic()
    wait(ticket, node, ticket.nodes(node).lxc(vmid).status.start.post())
    start_seconds = time.monotonic() - started
    check(token.nodes(node).lxc(vmid).status.current.get()["status"] == "running", "not running")
    wait(token, node, token.nodes(node).lxc(vmid).status.stop.post())
    check(token.nodes(node).lxc(vmid).status.current.get()["status"] == "stopped", "not stopped")

    wait(token, node, token.nodes(node).lxc(vmid).delete(purge=1, force=1))
    ids = [ct["vmid"] for ct in token.nodes(node).lxc.get()]
    check(vmid not in ids, f"CT {vmid} still listed: {ids}")
    print(f"timing: create task {create_seconds:.2f} s, start task {start_seconds:.2f} s")
    print("proxmoxer: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, ResourceException) as err:
        sys.exit(f"proxmoxer check failed: {err}")
