"""ApplicationIR: everything phase 1 compiles from a spec, as one versioned value."""

from __future__ import annotations

from typing import Literal

from pydantic import Field as PydanticField

from specloom.ir.api import ApiModel
from specloom.ir.behaviour import BehaviourModel
from specloom.ir.common import Node
from specloom.ir.domain import DomainModel
from specloom.ir.infrastructure import InfrastructureModel
from specloom.ir.validation import ValidationModel

IR_VERSION: Literal["1"] = "1"


class ApplicationIR(Node):
    """The compiled model of one spec. Serializes to JSON and back unchanged."""

    ir_version: Literal["1"] = "1"
    name: str = ""
    description: str = ""
    source: str = ""
    domain: DomainModel = PydanticField(default_factory=DomainModel)
    api: ApiModel = PydanticField(default_factory=ApiModel)
    behaviour: BehaviourModel = PydanticField(default_factory=BehaviourModel)
    validation: ValidationModel = PydanticField(default_factory=ValidationModel)
    infrastructure: InfrastructureModel = PydanticField(default_factory=InfrastructureModel)
