"""CIDR functions of the job file language: ``cidrhost``, ``cidrnetmask``, ``cidrsubnet(s)``.

Semantics follow go-cty-funcs (Terraform's): host and subnet numbers may be negative to count
from the end of the range; ``cidrsubnets`` allocates consecutive subnets of growing sizes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from .encoding import FunctionError, text
from .values import to_int

__all__ = ["NETWORK_FUNCTIONS"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(prefix: Any) -> Network:
    try:
        return ipaddress.ip_network(text(prefix), strict=False)
    except ValueError:
        raise FunctionError(f"invalid CIDR prefix {text(prefix)!r}") from None


def _cidrhost(prefix: Any, hostnum: Any) -> str:
    net = _network(prefix)
    number = to_int(hostnum)
    if number < 0:
        number += net.num_addresses
    if not 0 <= number < net.num_addresses:
        raise FunctionError(f"prefix {net} has no host number {to_int(hostnum)}")
    return str(net.network_address + number)


def _cidrnetmask(prefix: Any) -> str:
    net = _network(prefix)
    if net.version != 4:
        raise FunctionError("only IPv4 prefixes have a netmask")
    return str(net.netmask)


def _subnet(net: Network, newbits: int, netnum: int) -> Network:
    new_prefix = net.prefixlen + newbits
    if newbits < 0 or new_prefix > net.max_prefixlen:
        raise FunctionError(f"cannot add {newbits} bits to prefix {net}")
    count = 1 << newbits
    if netnum < 0:
        netnum += count
    if not 0 <= netnum < count:
        raise FunctionError(f"prefix {net} extended by {newbits} bits has no network {netnum}")
    size = 1 << (net.max_prefixlen - new_prefix)
    address = int(net.network_address) + netnum * size
    return ipaddress.ip_network((address, new_prefix))


def _cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    return str(_subnet(_network(prefix), to_int(newbits), to_int(netnum)))


def _cidrsubnets(prefix: Any, *newbits: Any) -> list[str]:
    net = _network(prefix)
    result: list[str] = []
    cursor = int(net.network_address)
    for bits in map(to_int, newbits):
        new_prefix = net.prefixlen + bits
        if bits < 1 or new_prefix > net.max_prefixlen:
            raise FunctionError(f"cannot add {bits} bits to prefix {net}")
        size = 1 << (net.max_prefixlen - new_prefix)
        cursor = (cursor + size - 1) // size * size  # align to the new subnet's size
        subnet = ipaddress.ip_network((cursor, new_prefix))
        if not subnet.subnet_of(net):  # type: ignore[arg-type]
            raise FunctionError(f"not enough remaining address space in {net} for /{new_prefix}")
        result.append(str(subnet))
        cursor += size
    return result


NETWORK_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "cidrhost": _cidrhost,
    "cidrnetmask": _cidrnetmask,
    "cidrsubnet": _cidrsubnet,
    "cidrsubnets": _cidrsubnets,
}
