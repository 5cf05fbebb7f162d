"""The vocabulary on the wire: every value of every enum the services use has its proto enum value and back,
so no answer can fail to convert and no request value is lost."""

from datetime import UTC, datetime

import pytest
from google.protobuf import timestamp_pb2

from services.api.enums import enum_number, enum_text
from services.api.kring.v1 import federation_pb2 as pb
from services.common.vocabulary import (
    LinkStatus,
    NetworkKind,
    NetworkLevel,
    NetworkStatus,
    OutputKind,
    Perspective,
    ResourceType,
    SessionFormat,
    SessionMode,
    SessionStatus,
    Visibility,
)
from services.federation.domain.links import LinkKind
from services.gateway.partner import messages
from services.gateway.partner.messages import timestamp

FEED_ITEM_KINDS = ("shared", "retracted", "updated")  # services/federation/schemas.py LogEntry.kind

PAIRS = [
    (NetworkLevel, pb.NetworkLevel), (NetworkKind, pb.NetworkKind), (NetworkStatus, pb.NetworkStatus),
    (SessionFormat, pb.SessionFormat), (SessionMode, pb.SessionMode), (SessionStatus, pb.SessionStatus),
    (OutputKind, pb.OutputKind), (ResourceType, pb.ResourceType), (Visibility, pb.Visibility),
    (Perspective, pb.Perspective), (LinkKind, pb.LinkKind), (LinkStatus, pb.LinkStatus),
    (FEED_ITEM_KINDS, pb.FeedItemKind),
]


@pytest.mark.parametrize(("vocabulary", "proto"), PAIRS, ids=lambda p: getattr(p, "__name__", None)
                         or getattr(getattr(p, "DESCRIPTOR", None), "name", "feed item kind"))
def test_every_vocabulary_value_has_exactly_one_proto_value_and_back(vocabulary, proto):
    values = [str(v) for v in vocabulary]
    numbers = [enum_number(proto, v) for v in values]
    assert 0 not in numbers and len(set(numbers)) == len(values)
    assert [enum_text(proto, n) for n in numbers] == values
    assert sorted(numbers) == sorted(n for n in proto.values() if n != 0)  # and the proto has nothing more


def test_an_absent_value_is_unspecified_and_an_unknown_number_is_an_error():
    assert enum_number(pb.ResourceType, None) == pb.RESOURCE_TYPE_UNSPECIFIED
    with pytest.raises(ValueError):
        enum_text(pb.OutputKind, 99)


def test_timestamps_are_utc_whatever_offset_the_service_wrote():
    ts = timestamp("2026-03-01T10:00:00+01:00")
    assert ts.ToDatetime(tzinfo=UTC) == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert timestamp(None) is None


@pytest.mark.parametrize("moment", ["2026-03-01T10:00:00.123456+01:00", "1969-12-31T23:59:59.5+00:00",
                                    "1000-01-01T00:00:00-05:00", "8999-12-31T23:59:59.999999+00:00"])
def test_timestamps_are_what_protobuf_itself_makes_of_the_time(moment):
    expected = timestamp_pb2.Timestamp()
    expected.FromDatetime(datetime.fromisoformat(moment).astimezone(UTC))
    assert timestamp(moment) == expected


def test_a_feed_copy_with_role_codes_makes_the_same_partner_output_as_before():
    """The admin API's feed adds ``role`` to each author; the partner API's Output is unchanged by it (no field for
    it in kring.v1, and the same bytes)."""
    from services.federation.domain.copies import with_author_roles
    from services.gateway.partner.messages import output

    copy = {"output_id": "o-1", "origin_network_id": "n-1", "session_id": "s-1", "kind": "lesson", "title": "Les",
            "body": "", "url": None, "resource_type": None, "themes": [], "visibility": "linked",
            "licence": "CC-BY-4.0", "published_at": "2026-01-01T00:00:00+00:00",
            "authors": [{"shown_as": "a practitioner", "named": False}, {"shown_as": "Dewi", "named": True}]}
    assert output(with_author_roles(copy)).SerializeToString() == output(copy).SerializeToString()
    assert [f.name for f in pb.Author.DESCRIPTOR.fields] == ["shown_as", "named"]



def test_a_log_entry_encoded_once_for_every_stream_is_the_message_log_entry_builds():
    """Streams send the hub's bytes as they are: each must decode to exactly the item ``log_entry`` would send,
    for a share, a retraction and an attribution change, when entries share one output and when they do not."""
    copy_ = {"output_id": "o-1", "origin_network_id": "beteroud", "session_id": None, "kind": "lesson",
             "title": "Les", "body": "wat we leerden", "url": None, "resource_type": None, "themes": ["ouderen"],
             "visibility": "linked", "licence": "CC-BY-4.0",
             "authors": [{"shown_as": "Ans de Vries", "named": True}, {"shown_as": "a participant", "named": False}],
             "published_at": "2026-03-01T09:00:00+00:00"}
    gone = {"output_id": "o-2", "origin_network_id": "beteroud", "retracted": True,
            "retracted_at": "2026-03-02T10:00:00.123456+00:00"}
    at = "2026-03-01T09:00:01.5+00:00"
    entries = [
        {"cursor": 7, "network_id": "wijk-noord", "kind": "shared", "backfill": False, "at": at, "output": copy_},
        {"cursor": 8, "network_id": "werkplaats-zuid", "kind": "shared", "backfill": True, "at": at, "output": copy_},
        {"cursor": 9, "network_id": "wijk-noord", "kind": "updated", "backfill": False, "at": at,
         "output": dict(copy_, authors=[{"shown_as": "a participant", "named": False}])},
        {"cursor": 10, "network_id": "wijk-noord", "kind": "retracted", "backfill": False,
         "at": "2026-03-02T10:00:00+00:00", "output": gone},
    ]
    encoded = messages.encoded_log_entries(entries)
    assert [pb.FeedItem.FromString(data) for data in encoded] == [messages.log_entry(e) for e in entries]
    assert pb.FeedItem.FromString(encoded[1]).output.authors[0].shown_as == "Ans de Vries"
    assert pb.FeedItem.FromString(encoded[3]).WhichOneof("content") == "tombstone"
