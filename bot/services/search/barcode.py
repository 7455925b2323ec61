"""Reading a book's ISBN from a photo of its barcode."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass

import zxingcpp
from PIL import Image, UnidentifiedImageError

from search.isbn import isbn13

# A phone photo is a few megapixels; refuse anything that would take long to decode.
MAX_IMAGE_PIXELS = 40_000_000

_ISBN_BARCODE = re.compile(r"97[89][0-9]{10}|[0-9]{9}[0-9Xx]")


@dataclass(frozen=True)
class BarcodeReading:
    """What a photo showed: no barcode, a barcode that is not an ISBN, or an ISBN."""

    found: bool
    isbn: str | None = None


def decode_isbn_barcode(image: bytes) -> BarcodeReading:
    """Find a book's ISBN barcode (EAN-13 starting 978/979) in a picture; blocking."""
    try:
        with Image.open(io.BytesIO(image)) as picture:
            if picture.width * picture.height > MAX_IMAGE_PIXELS:
                return BarcodeReading(found=False)
            barcodes = zxingcpp.read_barcodes(picture.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return BarcodeReading(found=False)
    texts = [str(barcode.text).strip() for barcode in barcodes if barcode.text]
    for text in texts:
        if _ISBN_BARCODE.fullmatch(text):
            isbn = isbn13(text)
            if isbn is not None:
                return BarcodeReading(found=True, isbn=isbn)
    return BarcodeReading(found=bool(texts))


async def read_isbn_barcode(image: bytes) -> BarcodeReading:
    """decode_isbn_barcode off the event loop."""
    return await asyncio.to_thread(decode_isbn_barcode, image)
