"""The kernel websocket of ``prospects serve``: the v1 protocol only, every frame checked, no traceback out.

A page talks to its kernel over ``/api/kernels/<id>/channels``. :class:`V1KernelWebsocketHandler`
refuses a socket that does not negotiate the v1 protocol; :class:`CheckedKernelConnection`
checks every incoming frame (:func:`v1_frame_problem`) before jupyter_server reads it,
sends every error the kernel reports as one short sentence (:data:`KERNEL_ERROR`) with the
detail in the server's log, and knows the open sockets of each kernel so that a kernel's
end closes them (:func:`close_websockets`: the page then says so instead of keeping dead
widgets).
"""

from __future__ import annotations

import itertools
import re
from typing import Any, ClassVar

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado import web
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

#: The only kernel websocket protocol served (what JupyterLab and Voilà's page speak).
V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
#: Frames a page may send: the four JSON parts of a Jupyter message and a few binary buffers.
MAX_FRAME_PARTS = 4 + 64
#: What the page gets instead of an error's message and traceback (the detail goes to the server's log).
KERNEL_ERROR = {
    "fr": "Une erreur est survenue dans le tableau de bord ; le détail est dans le journal du serveur.",
    "en": "An error occurred in the dashboard; the details are in the server's log.",
}
#: Terminal colour codes of IPython's tracebacks (kept out of the server's log).
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def v1_frame_problem(frame: Any) -> str | None:
    """Why ``frame`` is not a well-formed v1 kernel message (``None`` if it is).

    The v1 frame is ``n`` (8 bytes, little endian), ``n`` offsets (8 bytes each), the channel
    name, then the message parts. jupyter_server reads ``n`` and builds a list of ``n``
    offsets without checking ``n`` against the frame's length: a frame announcing 2**60
    offsets keeps the server's only thread busy, and its memory growing, until it is killed.
    Checked here first, in time linear in the frame's length.
    """
    if not isinstance(frame, bytes | bytearray | memoryview):
        return "a text frame (the v1 protocol sends binary frames only)"
    size = len(frame)
    if size < 8:
        return f"{size} bytes: shorter than the frame's header"
    count = int.from_bytes(frame[:8], "little")
    if not 6 <= count <= MAX_FRAME_PARTS + 2:
        return f"announces {count} offsets (a message has 4 to {MAX_FRAME_PARTS} parts after its channel)"
    header = 8 * (count + 1)
    if header > size:
        return f"announces {count} offsets in {size} bytes"
    offsets = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(count)]
    if offsets[0] != header or offsets[-1] != size or any(b < a for a, b in itertools.pairwise(offsets)):
        return "offsets out of order or outside the frame"
    return None


class CheckedKernelConnection(ZMQChannelsWebsocketConnection):
    """jupyter_server's kernel websocket connection, with every incoming frame checked first.

    A malformed frame closes the websocket (policy violation) and is logged with who sent
    it; it never reaches jupyter_server's parser. The open connections of each kernel are
    known (:func:`close_websockets`): jupyter_server leaves a page's websocket open when its
    kernel is shut down, and the page would keep dead widgets without a word.
    """

    #: kernel id → its open websocket connections
    open_by_kernel: ClassVar[dict[str, set[CheckedKernelConnection]]] = {}

    def connect(self) -> Any:
        self.open_by_kernel.setdefault(self.kernel_id, set()).add(self)
        return super().connect()

    def disconnect(self) -> None:
        mine = self.open_by_kernel.get(self.kernel_id)
        if mine is not None:
            mine.discard(self)
            if not mine:
                self.open_by_kernel.pop(self.kernel_id, None)
        super().disconnect()

    def _on_error(self, channel: str | None, msg: dict, msg_list: list) -> None:
        """An error the kernel reports (a widget callback that failed on an out-of-range index, say).

        Called by jupyter_server for every message from the kernel before it goes to the page
        (``msg_list``: header, parent header, metadata, content, buffers, packed). An
        ``error`` on iopub, or a reply whose status is ``error``, keeps its exception name;
        its message and traceback (paths, source lines) become :data:`KERNEL_ERROR` and go
        to the server's log with the viewer and the kernel.
        """
        if channel not in ("iopub", "shell") or len(msg_list) < 4:
            return
        if b"error" not in bytes(msg_list[0] if channel == "iopub" else msg_list[3]):
            return  # the common case: not an error, nothing unpacked
        header = self.session.unpack(bytes(msg_list[0]))
        content = self.session.unpack(bytes(msg_list[3]))
        if not isinstance(content, dict):
            return
        if channel == "iopub" and header.get("msg_type") != "error":
            return
        if channel == "shell" and content.get("status") != "error":
            return
        user = getattr(self.websocket_handler.current_user, "username", None)
        detail = ANSI.sub("", "\n".join(str(line) for line in content.get("traceback") or []))
        self.log.warning("prospects serve: kernel %s of %s: %s: %s (the page got a short sentence)\n%s", self.kernel_id,
                         user, content.get("ename"), ANSI.sub("", str(content.get("evalue", ""))), detail)
        locale = self.websocket_handler.settings.get("prospects_locale", "fr")
        sentence = KERNEL_ERROR.get(locale, KERNEL_ERROR["fr"])
        content["evalue"] = sentence
        content["traceback"] = [sentence]
        msg_list[3] = self.session.pack(content)

    def handle_incoming_message(self, incoming_msg: Any) -> None:
        problem = v1_frame_problem(incoming_msg)
        if problem is None:
            super().handle_incoming_message(incoming_msg)
            return
        handler = self.websocket_handler
        user = getattr(handler.current_user, "username", None)
        self.log.warning("prospects serve: malformed frame from %s on kernel %s (%s): websocket closed",
                         user, self.kernel_id, problem)
        handler.close(1008, "malformed message")


def close_websockets(kernel_id: str, why: str = "kernel shut down") -> int:
    """Close the websockets of a kernel that is gone (the page then says so); how many there were."""
    connections = CheckedKernelConnection.open_by_kernel.pop(kernel_id, set())
    for connection in connections:
        handler = connection.websocket_handler
        if handler is not None and handler.ws_connection is not None:
            handler.close(1001, why)
    return len(connections)


class V1KernelWebsocketHandler(VoilaKernelWebsocketHandler):
    """The kernel websocket, refused (400) unless the page negotiates the v1 protocol.

    With the legacy protocol (no subprotocol), Voilà's handler reads every binary message
    the kernel sends as if it were v1 (``read_header_from_binary_message``): the first 8
    bytes of a legacy frame give a count of about 8.6e17 and the server spins. Browsers
    (Voilà's page, JupyterLab) always offer v1; only a hand-made client does not.
    """

    async def pre_get(self) -> None:
        await super().pre_get()  # authorizes first: someone else's kernel stays a 403
        offered = [p.strip() for p in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        if V1_PROTOCOL not in offered:
            user = getattr(self.current_user, "username", None)
            self.log.warning("prospects serve: %s refused a kernel websocket without the %s subprotocol", user, V1_PROTOCOL)
            raise web.HTTPError(400, "the kernel websocket speaks %s only", V1_PROTOCOL)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return V1_PROTOCOL if V1_PROTOCOL in subprotocols else None
