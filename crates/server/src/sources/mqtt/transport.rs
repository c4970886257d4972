//! The byte streams an MQTT session runs on: plain TCP, or WebSocket (`[mqtt] websocket`, for
//! browsers; MQTT over WebSocket carries MQTT packets in binary frames, subprotocol `mqtt`).

use bytes::BytesMut;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

type Ws = WebSocketStream<TcpStream>;

pub enum Reader {
    Tcp(OwnedReadHalf),
    Ws(SplitStream<Ws>),
}

pub enum Writer {
    Tcp(OwnedWriteHalf),
    Ws(SplitSink<Ws, Message>),
}

/// A TCP connection as a session's two halves.
pub fn tcp(stream: TcpStream) -> (Reader, Writer) {
    let _ = stream.set_nodelay(true);
    let (r, w) = stream.into_split();
    (Reader::Tcp(r), Writer::Tcp(w))
}

/// The WebSocket handshake on a TCP connection (answering the `mqtt` subprotocol when asked).
// The callback's error type is tungstenite's (an HTTP response), not ours to shrink.
#[allow(clippy::result_large_err)]
pub async fn websocket(stream: TcpStream) -> Result<(Reader, Writer), String> {
    let _ = stream.set_nodelay(true);
    let ws = tokio_tungstenite::accept_hdr_async(stream, |req: &Request, mut resp: Response| {
        let wants_mqtt = req
            .headers()
            .get_all("sec-websocket-protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim().eq_ignore_ascii_case("mqtt"));
        if wants_mqtt {
            resp.headers_mut()
                .insert("sec-websocket-protocol", HeaderValue::from_static("mqtt"));
        }
        Ok::<Response, ErrorResponse>(resp)
    })
    .await
    .map_err(|e| e.to_string())?;
    let (w, r) = ws.split();
    Ok((Reader::Ws(r), Writer::Ws(w)))
}

impl Reader {
    /// Appends what arrives to `buf`; `Ok(0)` when the peer closed. Cancel-safe (a frame is
    /// either fully appended or still in the stream).
    pub async fn read_into(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        match self {
            Reader::Tcp(r) => r.read_buf(buf).await,
            Reader::Ws(r) => loop {
                match r.next().await {
                    None | Some(Ok(Message::Close(_))) => return Ok(0),
                    Some(Ok(Message::Binary(b))) if !b.is_empty() => {
                        buf.extend_from_slice(&b);
                        return Ok(b.len());
                    }
                    // Pings are answered by the library; MQTT has no use for text frames.
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(io::Error::other(e)),
                }
            },
        }
    }
}

impl Writer {
    pub async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Writer::Tcp(w) => w.write_all(bytes).await,
            Writer::Ws(w) => w
                .send(Message::Binary(bytes.to_vec().into()))
                .await
                .map_err(io::Error::other),
        }
    }

    pub async fn shutdown(&mut self) {
        match self {
            Writer::Tcp(w) => {
                let _ = w.shutdown().await;
            }
            Writer::Ws(w) => {
                let _ = w.close().await;
            }
        }
    }
}
