"""Results out: subtitles (SRT/VTT/JSON), JSON Lines, caption overlays, HTML pages, and the writer that does them all."""

from image_captioning.outputs.html_page import render_html_page
from image_captioning.outputs.overlay import draw_caption
from image_captioning.outputs.subtitles import srt_text, vtt_text, write_json, write_srt, write_vtt
from image_captioning.outputs.writer import ResultWriter, gallery_html

__all__ = ["ResultWriter", "draw_caption", "gallery_html", "render_html_page", "srt_text", "vtt_text", "write_json",
           "write_srt", "write_vtt"]
