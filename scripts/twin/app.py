"""A FastAPI + SQLModel twin of qbench's connection endpoints, to compare list throughput.

Only what the list benchmark needs: POST /api/v1/connections (to seed), GET /api/v1/connections
(limit/offset, X-Total-Count and Link headers, the API key masked) and GET /ready. It is written
the way a FastAPI service usually is (SQLModel table, a session per request, a response model),
and like qbench it stores the key's mask beside the key so a list decrypts nothing.

    TWIN_DATABASE=/tmp/twin.db uvicorn app:app --workers 2 --no-access-log
"""

import os
import uuid
from datetime import datetime, timezone

from fastapi import Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel
from sqlmodel import Field, Session, SQLModel, create_engine, func, select


class Connection(SQLModel, table=True):
    __tablename__ = "connections"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(unique=True)
    url: str
    api_key: str | None = None
    api_key_mask: str | None = None
    created_at: datetime = Field(index=True)
    updated_at: datetime


class ConnectionRequest(BaseModel):
    name: str
    url: str
    api_key: str | None = None


class ConnectionResponse(BaseModel):
    id: uuid.UUID
    name: str
    url: str
    api_key: str | None
    builtin: bool
    created_at: datetime
    updated_at: datetime


def mask(secret: str) -> str:
    return "****" if len(secret) < 8 else "****" + secret[-2:]


engine = create_engine(
    f"sqlite:///{os.environ.get('TWIN_DATABASE', 'twin.db')}", connect_args={"check_same_thread": False}
)
SQLModel.metadata.create_all(engine)
app = FastAPI()


def session():
    with Session(engine) as s:
        yield s


def response(c: Connection) -> ConnectionResponse:
    return ConnectionResponse(
        id=c.id,
        name=c.name,
        url=c.url,
        api_key=c.api_key_mask,
        builtin=c.name == "embedded" and c.url == "embedded://",
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


@app.get("/ready")
def ready():
    return {"status": "ready"}


@app.post("/api/v1/connections", status_code=201, response_model=ConnectionResponse)
def create(body: ConnectionRequest, s: Session = Depends(session)):
    now = datetime.now(timezone.utc)
    c = Connection(
        name=body.name,
        url=body.url,
        api_key=body.api_key,
        api_key_mask=mask(body.api_key) if body.api_key else None,
        created_at=now,
        updated_at=now,
    )
    s.add(c)
    s.commit()
    s.refresh(c)
    return response(c)


@app.get("/api/v1/connections", response_model=list[ConnectionResponse])
def list_connections(
    request: Request,
    response_: Response,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    s: Session = Depends(session),
):
    total = s.exec(select(func.count()).select_from(Connection)).one()
    rows = s.exec(
        select(Connection).order_by(Connection.created_at, Connection.id).offset(offset).limit(limit)
    ).all()
    response_.headers["X-Total-Count"] = str(total)
    last = 0 if total == 0 else (total - 1) // limit * limit
    links = [f'<{request.url.path}?limit={limit}&offset=0>; rel="first"']
    if offset + limit < total:
        links.append(f'<{request.url.path}?limit={limit}&offset={offset + limit}>; rel="next"')
    links.append(f'<{request.url.path}?limit={limit}&offset={last}>; rel="last"')
    response_.headers["Link"] = ", ".join(links)
    return [response(c) for c in rows]
