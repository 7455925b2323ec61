"""Bot API methods: Telegram's method models, form decoding, refusals of bad parameters, and
the registry of the methods the sandbox emulates (``@bot_method("sendMessage")`` on a handler)."""

from __future__ import annotations

import contextlib
import datetime
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from aiogram import methods
from aiogram.methods.base import TelegramMethod
from pydantic import BaseModel, ValidationError

from sandbox.errors import SandboxAPIError, bad_request

MethodModel = type[TelegramMethod[Any]]
HandlerT = TypeVar("HandlerT", bound=Callable[..., Awaitable[Any]])


def _method_registry() -> dict[str, MethodModel]:
    registry: dict[str, MethodModel] = {}
    for name in methods.__all__:
        candidate = getattr(methods, name)
        if (
            inspect.isclass(candidate)
            and issubclass(candidate, TelegramMethod)
            and not inspect.isabstract(candidate)
        ):
            registry[str(candidate.__api_method__).lower()] = candidate
    return registry


METHODS = _method_registry()
# Bot API method name -> the name of the Sandbox method that emulates it.
EMULATED: dict[str, str] = {}


def bot_method(*names: str) -> Callable[[HandlerT], HandlerT]:
    """Mark a Sandbox method as the emulation of these Bot API methods.

    The handler is called with the validated aiogram method model and the uploaded files.
    """

    def register(handler: HandlerT) -> HandlerT:
        for name in names:
            if str(METHODS[name.lower()].__api_method__) != name:
                raise ValueError(f"{name} is not spelled as the Bot API spells it")
            if EMULATED.setdefault(name, handler.__name__) != handler.__name__:
                raise ValueError(f"{name} is emulated twice")
        return handler

    return register


def _leaf_types(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Union or origin is UnionType:
        return [leaf for arg in get_args(annotation) for leaf in _leaf_types(arg)]
    if origin is Annotated:
        return _leaf_types(get_args(annotation)[0])
    if origin is Literal:
        return [type(arg) for arg in get_args(annotation)]
    return [annotation]


def _wants_json(annotation: Any) -> bool:
    """Whether a form field of this type carries JSON (numbers, booleans, objects, arrays)."""
    for leaf in _leaf_types(annotation):
        if leaf in (int, float, bool, list, dict, datetime.datetime, datetime.timedelta):
            return True
        if get_origin(leaf) in (list, dict):
            return True
        if inspect.isclass(leaf) and issubclass(leaf, BaseModel):
            return True
    return False


_JSON_FIELDS: dict[MethodModel, frozenset[str]] = {}


def _json_fields(model: MethodModel) -> frozenset[str]:
    if model not in _JSON_FIELDS:
        _JSON_FIELDS[model] = frozenset(
            name for name, info in model.model_fields.items() if _wants_json(info.annotation)
        )
    return _JSON_FIELDS[model]


def decode_params(model: MethodModel, params: Mapping[str, Any]) -> dict[str, Any]:
    """Turn form strings into the values Telegram reads from them (JSON where the type needs it)."""
    json_fields = _json_fields(model)
    decoded: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str) and key in json_fields:
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        decoded[key] = value
    return decoded


def validation_refusal(error: ValidationError) -> SandboxAPIError:
    """How Telegram refuses a call whose parameters do not validate."""
    details = error.errors()[0]
    location = details.get("loc") or ("",)
    field_name = str(location[0])
    if details["type"] == "missing" and len(location) == 1:
        if field_name == "text":
            return bad_request("message text is empty")
        return bad_request(f"{field_name} is empty")
    if field_name == "chat_id":
        return bad_request("chat not found")
    if field_name == "reply_markup":
        return bad_request("can't parse reply keyboard markup JSON object")
    if field_name in {"entities", "caption_entities"}:
        return bad_request("can't parse entities JSON object")
    if field_name == "results":
        return bad_request("can't parse inline query results JSON object")
    # Telegram has no single wording for a badly typed parameter; this one names the field.
    return bad_request(f"wrong parameter {field_name} in request: {details['msg']}")
