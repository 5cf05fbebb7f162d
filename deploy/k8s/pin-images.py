"""Pin the production overlay's images by digest: write the kustomize component overlays/production/release/.

    python deploy/k8s/pin-images.py \
        --kring registry.example.org/kring/kring@sha256:<digest> \
        --rabbitmq rabbitmq:4.1-management@sha256:<digest> \
        --postgres ghcr.io/cloudnative-pg/postgresql:17.6@sha256:<digest>

Each reference must carry a digest (``@sha256:`` and 64 hex digits): a tag alone is refused, because a tag can
be moved to other content after it was tested. Where the digests come from (README "Releasing"): Kring's from
`docker buildx build --push --metadata-file` (or `docker push`, which prints it), the others from the registry,
e.g. `docker buildx imagetools inspect rabbitmq:4.1-management`. The production overlay does not build until
this component exists; it is written per release and not kept in the repository.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / "overlays" / "production" / "release"
DIGEST_REFERENCE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._/:-]*?)(?::(?P<tag>[\w][\w.-]{0,127}))?"
                              r"@(?P<digest>sha256:[0-9a-f]{64})$")


class NotPinned(ValueError):
    pass


def parse(reference: str) -> tuple[str, str | None, str]:
    """(name, tag or None, digest) of an image reference that is pinned by digest; NotPinned otherwise."""
    match = DIGEST_REFERENCE.match(reference.strip())
    if match is None:
        raise NotPinned(f"{reference!r} is not pinned by digest (NAME[:TAG]@sha256:<64 hex digits>)")
    return match["name"], match["tag"], match["digest"]


def component(kring: str, rabbitmq: str, postgres: str) -> str:
    """The kustomize component that gives every production image its digest."""
    name, _, digest = parse(kring)
    parse(rabbitmq)
    parse(postgres)

    def image_patch(kind: str, name_: str, path: str, value: str) -> str:
        return (f"  - target:\n      kind: {kind}\n      name: {name_}\n    patch: |-\n"
                f"      - op: add\n        path: {path}\n        value: {json.dumps(value)}\n")

    return ("# Written by deploy/k8s/pin-images.py for one release: every production image by digest.\n"
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
            f"images:\n  - name: kring\n    newName: {name}\n    digest: {digest}\n"
            "patches:\n"
            + image_patch("RabbitmqCluster", "kring-rabbitmq", "/spec/image", rabbitmq)
            + image_patch("Cluster", "kring-postgres", "/spec/imageName", postgres))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kring", required=True, help="Kring's image, NAME@sha256:DIGEST")
    parser.add_argument("--rabbitmq", required=True, help="RabbitMQ's image for the RabbitmqCluster, by digest")
    parser.add_argument("--postgres", required=True, help="PostgreSQL's image for the CloudNativePG Cluster, by digest")
    parser.add_argument("--out", type=Path, default=TARGET, help="where to write the component (%(default)s)")
    args = parser.parse_args(argv)
    try:
        text = component(args.kring, args.rabbitmq, args.postgres)
    except NotPinned as exc:
        print(f"pin-images: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "kustomization.yaml").write_text(text)
    print(f"wrote {args.out / 'kustomization.yaml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
