"""
Offline narration: eSpeak NG (shipped by the ``espeakng-loader`` wheel) driven through ctypes.

eSpeak NG keeps global state, so one lock serialises synthesis across the render pool.
"""

from __future__ import annotations

import ctypes
import hashlib
import threading
from array import array
from functools import lru_cache

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_PARAM_PITCH = 3
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

_FEMALE = {"Rachel", "Aria", "Sarah", "Laura", "Charlotte", "Alice", "Matilda", "Jessica", "Lily", "River"}
_lock = threading.Lock()


class _Engine:
    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if self.sample_rate <= 0:
            raise RuntimeError("eSpeak NG failed to initialise")
        self._samples = array("h")
        # Keep a reference: ctypes callbacks are freed when their Python object is.
        self._callback = _CALLBACK(self._collect)
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]

    def _collect(self, wav: ctypes.POINTER(ctypes.c_short), count: int, _events: int) -> int:
        if wav and count > 0:
            self._samples.frombytes(ctypes.string_at(wav, count * 2))
        return 0

    def synthesise(self, text: str, voice: str, pitch: int, rate: int) -> array:
        self._samples = array("h")
        self.lib.espeak_SetVoiceByName(voice.encode())
        self.lib.espeak_SetParameter(_PARAM_RATE, rate, 0)
        self.lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
        data = text.encode("utf-8") + b"\0"
        self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        return self._samples


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    return _Engine()


# The story's language picks the eSpeak voice; unknown languages are narrated in English.
LANGUAGE_VOICES = {
    "English": "en-us",
    "Arabic": "ar",
    "Chinese": "cmn",
    "French": "fr",
    "German": "de",
    "Hindi": "hi",
    "Japanese": "ja",
    "Korean": "ko",
    "Spanish": "es",
    "Turkish": "tr",
}


def voice_for(narrator: str, language: str = "English") -> tuple[str, int, int]:
    """The eSpeak voice, pitch (0-100) and rate (words per minute) that stand in for a narrator and language."""
    seed = int(hashlib.sha256(narrator.encode()).hexdigest(), 16)
    variant = f"f{seed % 5 + 1}" if narrator in _FEMALE else f"m{seed % 7 + 1}"
    return f"{LANGUAGE_VOICES.get(language, 'en-us')}+{variant}", 35 + seed % 30, 165 + seed % 20


def speak(text: str, narrator: str = "Rachel", language: str = "English") -> tuple[array, int]:
    """
    Synthesise ``text`` in the voice standing in for ``narrator``, in ``language``.

    :return: mono signed 16-bit samples and their sample rate.
    """
    voice, pitch, rate = voice_for(narrator, language)
    with _lock:
        engine = _engine()
        return engine.synthesise(text, voice, pitch, rate), engine.sample_rate
