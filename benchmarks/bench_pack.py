"""Evidence pack: build + sign time and peak memory growth with 50 x 1 MB evidence files.

The parent seeds a database (the Art. 28 assessment of benchmarks.seed) and stores 50 files of
about 1 MB each, incompressible: 20 PDFs (one page holding a 1 MB image), 5 JPEG photos and
25 other files (DOCX/XLSX/CSV/TXT-like, embedded as attachments). A fresh subprocess then builds
the pack with the real service (report render in-process, so its memory is counted too) and
reports wall time and the growth of its peak RSS over the RSS it had just before the build.
Goal (issue 7): growth under 300 MB. --quick uses 10 files.
"""

from __future__ import annotations

import io
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES, QUICK_FILES = 50, 10
FILE_BYTES = 1024 * 1024
GOAL_MB = 300.0
OTHER_TYPES = [
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("csv", "text/csv"), ("txt", "text/plain"),
]


def _pdf(rng: random.Random) -> bytes:
    """Return a one-page PDF carrying about 1 MB of incompressible image data."""
    import pikepdf

    side = int((FILE_BYTES / 3) ** 0.5)
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, rng.randbytes(side * side * 3), Type=pikepdf.Name.XObject,
                           Subtype=pikepdf.Name.Image, Width=side, Height=side,
                           ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8)
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pikepdf.Stream(pdf, b"q 500 0 0 500 48 200 cm /Im0 Do Q")
    buffer = io.BytesIO()
    pdf.save(buffer, compress_streams=False)
    return buffer.getvalue()


def _jpeg(rng: random.Random) -> bytes:
    """Return a noisy JPEG photo of roughly 1 MB."""
    from PIL import Image

    image = Image.frombytes("RGB", (900, 900), rng.randbytes(900 * 900 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def seed_pack(folder: Path, files: int) -> tuple[str, int]:
    """Seed a database with one assessment and ``files`` evidence files; return (url, id)."""
    from benchmarks import seed
    from vendorcheck.extensions import db
    from vendorcheck.models.assessments import Evidence
    from vendorcheck.storage import Area, current_store

    url = seed.sqlite_url(folder / "bench.sqlite3")
    app = seed.make_app(url, EVIDENCE_DIR=str(folder / "evidence"))
    app.instance_path = str(folder / "instance")
    seeded = seed.seed_journey(app)
    rng = random.Random(7)
    with app.app_context():
        for index in range(files):
            if index % 10 < 4:
                name, kind, data = f"scan-{index}.pdf", "application/pdf", _pdf(rng)
            elif index % 10 == 4:
                name, kind, data = f"photo-{index}.jpg", "image/jpeg", _jpeg(rng)
            else:
                ext, kind = OTHER_TYPES[index % len(OTHER_TYPES)]
                name, data = f"document-{index}.{ext}", rng.randbytes(FILE_BYTES)
            key, sha256, size = current_store().save(Area.EVIDENCE, io.BytesIO(data))
            db.session.add(Evidence(assessment_id=seeded.assessment_id, item_id="certifications",
                                    file_name=name, storage_key=key, content_type=kind,
                                    size=size, sha256=sha256))
        db.session.commit()
    return url, seeded.assessment_id


def child(folder: Path, url: str, assessment_id: int) -> None:
    """Build the pack in this (fresh) process and print one JSON line of figures."""
    from benchmarks import seed
    from vendorcheck.extensions import db
    from vendorcheck.models.assessments import Assessment
    from vendorcheck.services import packs

    app = seed.make_app(url, EVIDENCE_DIR=str(folder / "evidence"), REPORT_RENDER_MODE="inline")
    app.instance_path = str(folder / "instance")
    with app.test_request_context():
        assessment = db.session.get(Assessment, assessment_id)
        assert assessment is not None
        before = _rss_mb()
        start = time.perf_counter()
        built = packs.build_pack([assessment], locale="en", output=folder / "pack.pdf", by=None)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_before_mb": before, "peak_mb": peak,
                      "growth_mb": peak - before, "pages": built.pages,
                      "attachments": len(built.attachments), "size_mb": built.size / 1e6}))


def _rss_mb() -> float:
    """Return this process's current resident set size in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(quick: bool = False) -> None:
    """Seed, build in a subprocess, print the figures."""
    files = QUICK_FILES if quick else FILES
    with tempfile.TemporaryDirectory(prefix="vendorcheck-bench-pack-") as tmp:
        folder = Path(tmp)
        url, assessment_id = seed_pack(folder, files)
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_pack", "--child", str(folder), url,
             str(assessment_id)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            print(result.stderr[-3000:], file=sys.stderr)
            raise SystemExit("pack benchmark child failed")
        figures = json.loads(result.stdout.strip().splitlines()[-1])
    verdict = "OK" if figures["growth_mb"] < GOAL_MB else "OVER GOAL"
    print(f"   evidence pack, {files} x 1 MB files ({figures['attachments']} attached): "
          f"{figures['seconds']:.1f} s build+sign, {figures['pages']} pages, "
          f"{figures['size_mb']:.1f} MB")
    print(f"   RSS {figures['rss_before_mb']:.0f} MB before, peak {figures['peak_mb']:.0f} MB: "
          f"growth {figures['growth_mb']:.0f} MB (goal < {GOAL_MB:.0f} MB) {verdict}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        main(quick="--quick" in sys.argv)
