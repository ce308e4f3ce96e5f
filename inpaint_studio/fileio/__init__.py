"""Image and mask files in and out, keeping what photographers care about (above ``core``).

Reads JPEG, PNG, TIFF, WebP and BMP into a :class:`Picture` (RGB/RGBA, uint8 or uint16)
with EXIF orientation applied and the EXIF block, ICC profile and original mode kept, so
``save_image`` can write them back. Every problem with a user's file is a one-line
``UserError`` naming the file; every save goes to a temp file first and is then renamed.
Masks are read like images, EXIF orientation included, so a mask is used the way every
image viewer shows it.

Modules: ``formats`` (Picture, extensions, limits), ``read``, ``write``, ``atomic``
(temp file then rename), ``metadata`` (EXIF, ICC), ``exifthumb`` (EXIF thumbnails),
``deep`` (16-bit PNG and TIFF, which Pillow cannot do). 16 -> 8 bits is always
``core.pixels.to8``.
"""
from inpaint_studio.fileio.formats import EXTENSIONS, JPEG_QUALITY, PNG_LEVEL, WEBP_METHOD, Picture
from inpaint_studio.fileio.read import load_image, load_mask
from inpaint_studio.fileio.write import check_can_save, save_image, save_mask, save_notes

__all__ = ["EXTENSIONS", "JPEG_QUALITY", "PNG_LEVEL", "WEBP_METHOD", "Picture", "check_can_save", "load_image",
           "load_mask", "save_image", "save_mask", "save_notes"]
