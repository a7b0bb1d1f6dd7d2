// Copyright 2026 Trainyard authors.
//
// Fixture (tests/build): reaches into service beta, which ty_check_layers
// must refuse. Never compiled.
#pragma once

#include "services/beta/beta.h"
