import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NetworkLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NETWORK_LEVEL_UNSPECIFIED: _ClassVar[NetworkLevel]
    NETWORK_LEVEL_NATIONAL: _ClassVar[NetworkLevel]
    NETWORK_LEVEL_REGIONAL: _ClassVar[NetworkLevel]
    NETWORK_LEVEL_LOCAL: _ClassVar[NetworkLevel]
    NETWORK_LEVEL_NEIGHBOURHOOD: _ClassVar[NetworkLevel]

class NetworkKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NETWORK_KIND_UNSPECIFIED: _ClassVar[NetworkKind]
    NETWORK_KIND_KNOWLEDGE_NETWORK: _ClassVar[NetworkKind]
    NETWORK_KIND_LEARNING_CIRCLE: _ClassVar[NetworkKind]
    NETWORK_KIND_COMMUNITY_OF_PRACTICE: _ClassVar[NetworkKind]
    NETWORK_KIND_WERKPLAATS: _ClassVar[NetworkKind]

class NetworkStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NETWORK_STATUS_UNSPECIFIED: _ClassVar[NetworkStatus]
    NETWORK_STATUS_ACTIVE: _ClassVar[NetworkStatus]
    NETWORK_STATUS_ARCHIVED: _ClassVar[NetworkStatus]

class SessionFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_FORMAT_UNSPECIFIED: _ClassVar[SessionFormat]
    SESSION_FORMAT_KNOWLEDGE_CAFE: _ClassVar[SessionFormat]
    SESSION_FORMAT_WORLD_CAFE: _ClassVar[SessionFormat]
    SESSION_FORMAT_LEARNING_SESSION: _ClassVar[SessionFormat]
    SESSION_FORMAT_ACTION_LEARNING_SESSION: _ClassVar[SessionFormat]
    SESSION_FORMAT_FOCUS_GROUP: _ClassVar[SessionFormat]
    SESSION_FORMAT_NARRATIVE_INTERVIEW: _ClassVar[SessionFormat]
    SESSION_FORMAT_INTERVISION: _ClassVar[SessionFormat]
    SESSION_FORMAT_WEBINAR: _ClassVar[SessionFormat]
    SESSION_FORMAT_OTHER: _ClassVar[SessionFormat]

class SessionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_MODE_UNSPECIFIED: _ClassVar[SessionMode]
    SESSION_MODE_IN_PERSON: _ClassVar[SessionMode]
    SESSION_MODE_ONLINE: _ClassVar[SessionMode]
    SESSION_MODE_HYBRID: _ClassVar[SessionMode]

class SessionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_STATUS_UNSPECIFIED: _ClassVar[SessionStatus]
    SESSION_STATUS_PLANNED: _ClassVar[SessionStatus]
    SESSION_STATUS_HELD: _ClassVar[SessionStatus]
    SESSION_STATUS_CLOSED: _ClassVar[SessionStatus]
    SESSION_STATUS_CANCELLED: _ClassVar[SessionStatus]

class OutputKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTPUT_KIND_UNSPECIFIED: _ClassVar[OutputKind]
    OUTPUT_KIND_CONCLUSION: _ClassVar[OutputKind]
    OUTPUT_KIND_LEARNING_QUESTION: _ClassVar[OutputKind]
    OUTPUT_KIND_LESSON: _ClassVar[OutputKind]
    OUTPUT_KIND_RESOURCE: _ClassVar[OutputKind]

class ResourceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESOURCE_TYPE_UNSPECIFIED: _ClassVar[ResourceType]
    RESOURCE_TYPE_KNOWLEDGE_CLIP: _ClassVar[ResourceType]
    RESOURCE_TYPE_PUBLICATION: _ClassVar[ResourceType]
    RESOURCE_TYPE_LINK: _ClassVar[ResourceType]

class Visibility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISIBILITY_UNSPECIFIED: _ClassVar[Visibility]
    VISIBILITY_NETWORK: _ClassVar[Visibility]
    VISIBILITY_LINKED: _ClassVar[Visibility]
    VISIBILITY_FEDERATION: _ClassVar[Visibility]
    VISIBILITY_PUBLIC: _ClassVar[Visibility]

class Perspective(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PERSPECTIVE_UNSPECIFIED: _ClassVar[Perspective]
    PERSPECTIVE_MUNICIPALITY_POLICY: _ClassVar[Perspective]
    PERSPECTIVE_PRACTITIONER: _ClassVar[Perspective]
    PERSPECTIVE_CLIENT: _ClassVar[Perspective]
    PERSPECTIVE_RESIDENT: _ClassVar[Perspective]
    PERSPECTIVE_VOLUNTEER: _ClassVar[Perspective]
    PERSPECTIVE_LIVED_EXPERIENCE: _ClassVar[Perspective]
    PERSPECTIVE_EDUCATION: _ClassVar[Perspective]
    PERSPECTIVE_RESEARCH: _ClassVar[Perspective]

class LinkKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINK_KIND_UNSPECIFIED: _ClassVar[LinkKind]
    LINK_KIND_PARENT_CHILD: _ClassVar[LinkKind]
    LINK_KIND_PEER: _ClassVar[LinkKind]

class LinkStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINK_STATUS_UNSPECIFIED: _ClassVar[LinkStatus]
    LINK_STATUS_REQUESTED: _ClassVar[LinkStatus]
    LINK_STATUS_ACTIVE: _ClassVar[LinkStatus]
    LINK_STATUS_REJECTED: _ClassVar[LinkStatus]
    LINK_STATUS_REVOKED: _ClassVar[LinkStatus]
    LINK_STATUS_BLOCKED: _ClassVar[LinkStatus]

class FeedItemKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEED_ITEM_KIND_UNSPECIFIED: _ClassVar[FeedItemKind]
    FEED_ITEM_KIND_SHARED: _ClassVar[FeedItemKind]
    FEED_ITEM_KIND_RETRACTED: _ClassVar[FeedItemKind]
    FEED_ITEM_KIND_UPDATED: _ClassVar[FeedItemKind]
NETWORK_LEVEL_UNSPECIFIED: NetworkLevel
NETWORK_LEVEL_NATIONAL: NetworkLevel
NETWORK_LEVEL_REGIONAL: NetworkLevel
NETWORK_LEVEL_LOCAL: NetworkLevel
NETWORK_LEVEL_NEIGHBOURHOOD: NetworkLevel
NETWORK_KIND_UNSPECIFIED: NetworkKind
NETWORK_KIND_KNOWLEDGE_NETWORK: NetworkKind
NETWORK_KIND_LEARNING_CIRCLE: NetworkKind
NETWORK_KIND_COMMUNITY_OF_PRACTICE: NetworkKind
NETWORK_KIND_WERKPLAATS: NetworkKind
NETWORK_STATUS_UNSPECIFIED: NetworkStatus
NETWORK_STATUS_ACTIVE: NetworkStatus
NETWORK_STATUS_ARCHIVED: NetworkStatus
SESSION_FORMAT_UNSPECIFIED: SessionFormat
SESSION_FORMAT_KNOWLEDGE_CAFE: SessionFormat
SESSION_FORMAT_WORLD_CAFE: SessionFormat
SESSION_FORMAT_LEARNING_SESSION: SessionFormat
SESSION_FORMAT_ACTION_LEARNING_SESSION: SessionFormat
SESSION_FORMAT_FOCUS_GROUP: SessionFormat
SESSION_FORMAT_NARRATIVE_INTERVIEW: SessionFormat
SESSION_FORMAT_INTERVISION: SessionFormat
SESSION_FORMAT_WEBINAR: SessionFormat
SESSION_FORMAT_OTHER: SessionFormat
SESSION_MODE_UNSPECIFIED: SessionMode
SESSION_MODE_IN_PERSON: SessionMode
SESSION_MODE_ONLINE: SessionMode
SESSION_MODE_HYBRID: SessionMode
SESSION_STATUS_UNSPECIFIED: SessionStatus
SESSION_STATUS_PLANNED: SessionStatus
SESSION_STATUS_HELD: SessionStatus
SESSION_STATUS_CLOSED: SessionStatus
SESSION_STATUS_CANCELLED: SessionStatus
OUTPUT_KIND_UNSPECIFIED: OutputKind
OUTPUT_KIND_CONCLUSION: OutputKind
OUTPUT_KIND_LEARNING_QUESTION: OutputKind
OUTPUT_KIND_LESSON: OutputKind
OUTPUT_KIND_RESOURCE: OutputKind
RESOURCE_TYPE_UNSPECIFIED: ResourceType
RESOURCE_TYPE_KNOWLEDGE_CLIP: ResourceType
RESOURCE_TYPE_PUBLICATION: ResourceType
RESOURCE_TYPE_LINK: ResourceType
VISIBILITY_UNSPECIFIED: Visibility
VISIBILITY_NETWORK: Visibility
VISIBILITY_LINKED: Visibility
VISIBILITY_FEDERATION: Visibility
VISIBILITY_PUBLIC: Visibility
PERSPECTIVE_UNSPECIFIED: Perspective
PERSPECTIVE_MUNICIPALITY_POLICY: Perspective
PERSPECTIVE_PRACTITIONER: Perspective
PERSPECTIVE_CLIENT: Perspective
PERSPECTIVE_RESIDENT: Perspective
PERSPECTIVE_VOLUNTEER: Perspective
PERSPECTIVE_LIVED_EXPERIENCE: Perspective
PERSPECTIVE_EDUCATION: Perspective
PERSPECTIVE_RESEARCH: Perspective
LINK_KIND_UNSPECIFIED: LinkKind
LINK_KIND_PARENT_CHILD: LinkKind
LINK_KIND_PEER: LinkKind
LINK_STATUS_UNSPECIFIED: LinkStatus
LINK_STATUS_REQUESTED: LinkStatus
LINK_STATUS_ACTIVE: LinkStatus
LINK_STATUS_REJECTED: LinkStatus
LINK_STATUS_REVOKED: LinkStatus
LINK_STATUS_BLOCKED: LinkStatus
FEED_ITEM_KIND_UNSPECIFIED: FeedItemKind
FEED_ITEM_KIND_SHARED: FeedItemKind
FEED_ITEM_KIND_RETRACTED: FeedItemKind
FEED_ITEM_KIND_UPDATED: FeedItemKind

class GetInstanceRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Instance(_message.Message):
    __slots__ = ("id", "name", "version", "api_version")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    version: str
    api_version: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., api_version: _Optional[str] = ...) -> None: ...

class Network(_message.Message):
    __slots__ = ("id", "name", "level", "kind", "theme", "region", "host_organisation", "parent_id", "status")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    HOST_ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    level: NetworkLevel
    kind: NetworkKind
    theme: str
    region: str
    host_organisation: str
    parent_id: str
    status: NetworkStatus
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., level: _Optional[_Union[NetworkLevel, str]] = ..., kind: _Optional[_Union[NetworkKind, str]] = ..., theme: _Optional[str] = ..., region: _Optional[str] = ..., host_organisation: _Optional[str] = ..., parent_id: _Optional[str] = ..., status: _Optional[_Union[NetworkStatus, str]] = ...) -> None: ...

class ListNetworksRequest(_message.Message):
    __slots__ = ("level", "kind", "theme", "parent_id", "page_size", "page_token")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    level: NetworkLevel
    kind: NetworkKind
    theme: str
    parent_id: str
    page_size: int
    page_token: str
    def __init__(self, level: _Optional[_Union[NetworkLevel, str]] = ..., kind: _Optional[_Union[NetworkKind, str]] = ..., theme: _Optional[str] = ..., parent_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListNetworksResponse(_message.Message):
    __slots__ = ("networks", "next_page_token")
    NETWORKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    networks: _containers.RepeatedCompositeFieldContainer[Network]
    next_page_token: str
    def __init__(self, networks: _Optional[_Iterable[_Union[Network, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetNetworkRequest(_message.Message):
    __slots__ = ("network_id",)
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    def __init__(self, network_id: _Optional[str] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ("id", "network_id", "title", "format", "mode", "location", "starts_at", "ends_at", "status", "capacity")
    ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    id: str
    network_id: str
    title: str
    format: SessionFormat
    mode: SessionMode
    location: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    status: SessionStatus
    capacity: int
    def __init__(self, id: _Optional[str] = ..., network_id: _Optional[str] = ..., title: _Optional[str] = ..., format: _Optional[_Union[SessionFormat, str]] = ..., mode: _Optional[_Union[SessionMode, str]] = ..., location: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[SessionStatus, str]] = ..., capacity: _Optional[int] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("network_id", "starts_from", "starts_before", "page_size", "page_token")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    STARTS_FROM_FIELD_NUMBER: _ClassVar[int]
    STARTS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    starts_from: _timestamp_pb2.Timestamp
    starts_before: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, network_id: _Optional[str] = ..., starts_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., starts_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_page_token")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[Session]
    next_page_token: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[Session, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PublishOutputRequest(_message.Message):
    __slots__ = ("network_id", "client_output_id", "kind", "title", "body", "url", "resource_type", "themes", "visibility", "licence", "authors", "session_ref")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_OUTPUT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    THEMES_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    LICENCE_FIELD_NUMBER: _ClassVar[int]
    AUTHORS_FIELD_NUMBER: _ClassVar[int]
    SESSION_REF_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    client_output_id: str
    kind: OutputKind
    title: str
    body: str
    url: str
    resource_type: ResourceType
    themes: _containers.RepeatedScalarFieldContainer[str]
    visibility: Visibility
    licence: str
    authors: _containers.RepeatedScalarFieldContainer[str]
    session_ref: str
    def __init__(self, network_id: _Optional[str] = ..., client_output_id: _Optional[str] = ..., kind: _Optional[_Union[OutputKind, str]] = ..., title: _Optional[str] = ..., body: _Optional[str] = ..., url: _Optional[str] = ..., resource_type: _Optional[_Union[ResourceType, str]] = ..., themes: _Optional[_Iterable[str]] = ..., visibility: _Optional[_Union[Visibility, str]] = ..., licence: _Optional[str] = ..., authors: _Optional[_Iterable[str]] = ..., session_ref: _Optional[str] = ...) -> None: ...

class PublishOutputResponse(_message.Message):
    __slots__ = ("output_id", "recipients", "retracted")
    OUTPUT_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    RETRACTED_FIELD_NUMBER: _ClassVar[int]
    output_id: str
    recipients: int
    retracted: bool
    def __init__(self, output_id: _Optional[str] = ..., recipients: _Optional[int] = ..., retracted: _Optional[bool] = ...) -> None: ...

class RetractOutputRequest(_message.Message):
    __slots__ = ("output_id",)
    OUTPUT_ID_FIELD_NUMBER: _ClassVar[int]
    output_id: str
    def __init__(self, output_id: _Optional[str] = ...) -> None: ...

class RetractOutputResponse(_message.Message):
    __slots__ = ("output_id", "retracted")
    OUTPUT_ID_FIELD_NUMBER: _ClassVar[int]
    RETRACTED_FIELD_NUMBER: _ClassVar[int]
    output_id: str
    retracted: bool
    def __init__(self, output_id: _Optional[str] = ..., retracted: _Optional[bool] = ...) -> None: ...

class Author(_message.Message):
    __slots__ = ("shown_as", "named")
    SHOWN_AS_FIELD_NUMBER: _ClassVar[int]
    NAMED_FIELD_NUMBER: _ClassVar[int]
    shown_as: str
    named: bool
    def __init__(self, shown_as: _Optional[str] = ..., named: _Optional[bool] = ...) -> None: ...

class Output(_message.Message):
    __slots__ = ("output_id", "origin_network_id", "session_id", "kind", "title", "body", "url", "resource_type", "themes", "visibility", "licence", "authors", "published_at")
    OUTPUT_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    THEMES_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    LICENCE_FIELD_NUMBER: _ClassVar[int]
    AUTHORS_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    output_id: str
    origin_network_id: str
    session_id: str
    kind: OutputKind
    title: str
    body: str
    url: str
    resource_type: ResourceType
    themes: _containers.RepeatedScalarFieldContainer[str]
    visibility: Visibility
    licence: str
    authors: _containers.RepeatedCompositeFieldContainer[Author]
    published_at: _timestamp_pb2.Timestamp
    def __init__(self, output_id: _Optional[str] = ..., origin_network_id: _Optional[str] = ..., session_id: _Optional[str] = ..., kind: _Optional[_Union[OutputKind, str]] = ..., title: _Optional[str] = ..., body: _Optional[str] = ..., url: _Optional[str] = ..., resource_type: _Optional[_Union[ResourceType, str]] = ..., themes: _Optional[_Iterable[str]] = ..., visibility: _Optional[_Union[Visibility, str]] = ..., licence: _Optional[str] = ..., authors: _Optional[_Iterable[_Union[Author, _Mapping]]] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Tombstone(_message.Message):
    __slots__ = ("output_id", "origin_network_id", "retracted_at")
    OUTPUT_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    RETRACTED_AT_FIELD_NUMBER: _ClassVar[int]
    output_id: str
    origin_network_id: str
    retracted_at: _timestamp_pb2.Timestamp
    def __init__(self, output_id: _Optional[str] = ..., origin_network_id: _Optional[str] = ..., retracted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FeedItem(_message.Message):
    __slots__ = ("cursor", "network_id", "kind", "backfill", "at", "output", "tombstone")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    TOMBSTONE_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    network_id: str
    kind: FeedItemKind
    backfill: bool
    at: _timestamp_pb2.Timestamp
    output: Output
    tombstone: Tombstone
    def __init__(self, cursor: _Optional[str] = ..., network_id: _Optional[str] = ..., kind: _Optional[_Union[FeedItemKind, str]] = ..., backfill: _Optional[bool] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., output: _Optional[_Union[Output, _Mapping]] = ..., tombstone: _Optional[_Union[Tombstone, _Mapping]] = ...) -> None: ...

class ListOutputsRequest(_message.Message):
    __slots__ = ("network_id", "page_size", "page_token")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    page_size: int
    page_token: str
    def __init__(self, network_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOutputsResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[FeedItem]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[FeedItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class StreamOutputsRequest(_message.Message):
    __slots__ = ("network_ids", "cursor")
    NETWORK_IDS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    network_ids: _containers.RepeatedScalarFieldContainer[str]
    cursor: str
    def __init__(self, network_ids: _Optional[_Iterable[str]] = ..., cursor: _Optional[str] = ...) -> None: ...

class GetFeedHeadRequest(_message.Message):
    __slots__ = ("network_ids", "cursor")
    NETWORK_IDS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    network_ids: _containers.RepeatedScalarFieldContainer[str]
    cursor: str
    def __init__(self, network_ids: _Optional[_Iterable[str]] = ..., cursor: _Optional[str] = ...) -> None: ...

class FeedHead(_message.Message):
    __slots__ = ("cursor", "pending")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    pending: int
    def __init__(self, cursor: _Optional[str] = ..., pending: _Optional[int] = ...) -> None: ...

class SharingPolicy(_message.Message):
    __slots__ = ("visibilities", "themes")
    VISIBILITIES_FIELD_NUMBER: _ClassVar[int]
    THEMES_FIELD_NUMBER: _ClassVar[int]
    visibilities: _containers.RepeatedScalarFieldContainer[Visibility]
    themes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, visibilities: _Optional[_Iterable[_Union[Visibility, str]]] = ..., themes: _Optional[_Iterable[str]] = ...) -> None: ...

class Link(_message.Message):
    __slots__ = ("link_id", "kind", "requester_network_id", "target_network_id", "status", "requester_policy", "target_policy", "requested_at", "updated_at")
    LINK_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_POLICY_FIELD_NUMBER: _ClassVar[int]
    TARGET_POLICY_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    link_id: str
    kind: LinkKind
    requester_network_id: str
    target_network_id: str
    status: LinkStatus
    requester_policy: SharingPolicy
    target_policy: SharingPolicy
    requested_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, link_id: _Optional[str] = ..., kind: _Optional[_Union[LinkKind, str]] = ..., requester_network_id: _Optional[str] = ..., target_network_id: _Optional[str] = ..., status: _Optional[_Union[LinkStatus, str]] = ..., requester_policy: _Optional[_Union[SharingPolicy, _Mapping]] = ..., target_policy: _Optional[_Union[SharingPolicy, _Mapping]] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RequestLinkRequest(_message.Message):
    __slots__ = ("requester_network_id", "target_network_id", "policy", "request_id")
    REQUESTER_NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    requester_network_id: str
    target_network_id: str
    policy: SharingPolicy
    request_id: str
    def __init__(self, requester_network_id: _Optional[str] = ..., target_network_id: _Optional[str] = ..., policy: _Optional[_Union[SharingPolicy, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetLinkRequest(_message.Message):
    __slots__ = ("link_id",)
    LINK_ID_FIELD_NUMBER: _ClassVar[int]
    link_id: str
    def __init__(self, link_id: _Optional[str] = ...) -> None: ...

class FindExpertiseRequest(_message.Message):
    __slots__ = ("tag", "page_size", "page_token")
    TAG_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tag: str
    page_size: int
    page_token: str
    def __init__(self, tag: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class Expert(_message.Message):
    __slots__ = ("name", "organisation", "expertise", "perspectives")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    EXPERTISE_FIELD_NUMBER: _ClassVar[int]
    PERSPECTIVES_FIELD_NUMBER: _ClassVar[int]
    name: str
    organisation: str
    expertise: _containers.RepeatedScalarFieldContainer[str]
    perspectives: _containers.RepeatedScalarFieldContainer[Perspective]
    def __init__(self, name: _Optional[str] = ..., organisation: _Optional[str] = ..., expertise: _Optional[_Iterable[str]] = ..., perspectives: _Optional[_Iterable[_Union[Perspective, str]]] = ...) -> None: ...

class FindExpertiseResponse(_message.Message):
    __slots__ = ("experts", "next_page_token")
    EXPERTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    experts: _containers.RepeatedCompositeFieldContainer[Expert]
    next_page_token: str
    def __init__(self, experts: _Optional[_Iterable[_Union[Expert, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListPublishedOutputsRequest(_message.Message):
    __slots__ = ("network_id", "page_size", "page_token")
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    network_id: str
    page_size: int
    page_token: str
    def __init__(self, network_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class PublishedOutput(_message.Message):
    __slots__ = ("output", "tombstone", "recipients")
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    TOMBSTONE_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    output: Output
    tombstone: Tombstone
    recipients: int
    def __init__(self, output: _Optional[_Union[Output, _Mapping]] = ..., tombstone: _Optional[_Union[Tombstone, _Mapping]] = ..., recipients: _Optional[int] = ...) -> None: ...

class ListPublishedOutputsResponse(_message.Message):
    __slots__ = ("outputs", "next_page_token")
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    outputs: _containers.RepeatedCompositeFieldContainer[PublishedOutput]
    next_page_token: str
    def __init__(self, outputs: _Optional[_Iterable[_Union[PublishedOutput, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
