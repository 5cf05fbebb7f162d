"""Code generated from proto/ by scripts/gen_proto.sh. Do not edit; regenerate and commit."""
