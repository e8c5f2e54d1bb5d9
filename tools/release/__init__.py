"""Salam's release artifacts: the wheel, the sdist, the ``--py-files`` zip and the OCI image.

``python -m tools.release`` (wrapped by ``scripts/build.sh``) exports the committed tree, builds
each artifact from that export and records what it built in ``dist/`` with sha256 digests:
:mod:`~tools.release.source` (the export and the version), :mod:`~tools.release.artifacts` (Python
artifacts), :mod:`~tools.release.buildah` (the daemonless image tool), :mod:`~tools.release.base`
(the Debian root filesystem as a base image), :mod:`~tools.release.image` (the Salam image and its
record) and :mod:`~tools.release.smoke` (running the image's entrypoints in a chroot). A build tool:
the installed packages never import it (an import-linter contract).
"""
