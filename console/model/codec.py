"""msgpack and JSON codecs for market events, shared by the recorder and the MQTT bus."""

from __future__ import annotations

import msgspec

from console.model.events import MarketEvent

_mp_encoder = msgspec.msgpack.Encoder()
# The union is a runtime value here, so the decoders' element types are spelled out for mypy.
_mp_decoder: msgspec.msgpack.Decoder[MarketEvent] = msgspec.msgpack.Decoder(MarketEvent)
_json_encoder = msgspec.json.Encoder()
_json_decoder: msgspec.json.Decoder[MarketEvent] = msgspec.json.Decoder(MarketEvent)
_mp_many: msgspec.msgpack.Decoder[list[MarketEvent]] = msgspec.msgpack.Decoder(list[MarketEvent])


def to_msgpack(event: MarketEvent) -> bytes:
    return _mp_encoder.encode(event)


def from_msgpack(data: bytes) -> MarketEvent:
    return _mp_decoder.decode(data)


def many_to_msgpack(events: list[MarketEvent]) -> bytes:
    return _mp_encoder.encode(events)


def many_from_msgpack(data: bytes) -> list[MarketEvent]:
    return _mp_many.decode(data)


def to_json(event: MarketEvent) -> bytes:
    return _json_encoder.encode(event)


def from_json(data: bytes | str) -> MarketEvent:
    return _json_decoder.decode(data)
