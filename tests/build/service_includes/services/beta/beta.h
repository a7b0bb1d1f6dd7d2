// Copyright 2026 Trainyard authors.
//
// Fixture (tests/build): a header of service beta. Never compiled.
#pragma once
