"""Reading a page image with an OpenAI vision model (``ocr_agent`` with ``use_vision``).

The model, key and address come from the settings (``OPENAI_API_KEY``,
``OPENAI_BASE_URL``, ``OPENAI_MODEL``); a client is opened per page and closed. A page
image takes a model longer to read than a text prompt, so one call may take
`VISION_TIMEOUT_S` even when ``AGENT_TIMEOUT_MS`` is shorter; give the OCR step a
``timeout_ms`` to match.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import anyio.to_thread

from ..core.errors import AgentError, NonRetryableAgentError
from ..core.text import clean_text
from ..model_client import open_model_client

if TYPE_CHECKING:
    from PIL import Image

    from ..config import ModelSettings

MAX_SIDE = 2048
VISION_TIMEOUT_S = 60.0
PROMPT = (
    "Transcribe every line of text on this Finnish receipt or invoice exactly as "
    "printed, top to bottom, one printed line per output line. Keep numbers, commas, "
    "percent signs and the letters ä and ö exactly as they are. Output only the text."
)


class VisionReader:
    """Sends page images to the configured OpenAI model.

    Attributes:
        confidence: Reported for a model's reading, which carries no measure of its
            own: good, but below a text layer's 1.0.
    """

    confidence = 0.9

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings

    @property
    def available(self) -> bool:
        """Whether an OpenAI key is configured."""
        return self.settings.configured

    def check(self) -> None:
        """Refuse when no key is configured.

        Raises:
            NonRetryableAgentError: Saying to set OPENAI_API_KEY or to drop use_vision.
        """
        if not self.available:
            raise NonRetryableAgentError(
                "use_vision needs OPENAI_API_KEY on the server; set it, or run the "
                "step with use_vision false to read the file with Tesseract"
            )

    async def read(self, image: Image.Image) -> str:
        """The text the model reads on `image`.

        Raises:
            AgentError: The model could not be reached or failed (retryable).
            NonRetryableAgentError: The key or the request was refused.
        """
        import openai

        self.check()
        png = await anyio.to_thread.run_sync(_png_data_url, image)
        settings = self.settings
        try:
            async with open_model_client(
                settings, timeout_s=max(settings.timeout_s, VISION_TIMEOUT_S)
            ) as client:
                response = await client.chat.completions.create(
                    model=settings.model,
                    temperature=0,
                    messages=[
                        {
                            "role": "user",
                            "content": [
                                {"type": "text", "text": PROMPT},
                                {"type": "image_url", "image_url": {"url": png}},
                            ],
                        }
                    ],
                )
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise NonRetryableAgentError(
                f"the OpenAI server refused the key ({exc.status_code}); check "
                "OPENAI_API_KEY"
            ) from None
        except openai.BadRequestError as exc:
            raise NonRetryableAgentError(
                f"the model '{settings.model}' refused the image: "
                f"{exc.message}; use a vision-capable OPENAI_MODEL or use_vision false"
            ) from None
        except openai.APIError as exc:
            raise AgentError(f"the OpenAI vision request failed: {exc}") from None
        choice = response.choices[0] if response.choices else None
        text = choice.message.content if choice is not None else None
        if not text:
            raise AgentError("the vision model returned no text for the page")
        return clean_text(text)  # what the databases can hold


def _png_data_url(image: Image.Image) -> str:
    copy = image.convert("L")
    copy.thumbnail((MAX_SIDE, MAX_SIDE))
    buffer = io.BytesIO()
    copy.save(buffer, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
