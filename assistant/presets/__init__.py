"""Document-task presets (synthesis, translation, rewriting): versioned prompt files and their catalog."""

from assistant.presets._catalog import BUILTIN_DIR, Preset, PresetCatalog, PresetFormatError, UnknownPresetError

__all__ = ["BUILTIN_DIR", "Preset", "PresetCatalog", "PresetFormatError", "UnknownPresetError"]
