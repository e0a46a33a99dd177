"""The ApplicationIR and its parts: pure data (pydantic v2 models) that serialize and compare."""

from specloom.ir.api import ApiModel, Endpoint, Ordering, PathParameter
from specloom.ir.application import IR_VERSION, ApplicationIR
from specloom.ir.behaviour import BehaviourModel, Flow, FlowInput, Rule
from specloom.ir.common import Node, Position, SourceRange, Value
from specloom.ir.domain import DomainModel, Entity, Field, FieldType
from specloom.ir.infrastructure import InfrastructureModel
from specloom.ir.validation import ErrorPolicy, Requirement, ValidationModel

__all__ = [
    "IR_VERSION",
    "ApiModel",
    "ApplicationIR",
    "BehaviourModel",
    "DomainModel",
    "Endpoint",
    "Entity",
    "ErrorPolicy",
    "Field",
    "FieldType",
    "Flow",
    "FlowInput",
    "InfrastructureModel",
    "Node",
    "Ordering",
    "PathParameter",
    "Position",
    "Requirement",
    "Rule",
    "SourceRange",
    "ValidationModel",
    "Value",
]
