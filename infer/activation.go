package infer

import (
	"fmt"
	"math"
)

// Activation is an element-wise non-linearity applied after a layer.
type Activation uint8

// The supported activations.
const (
	Linear    Activation = iota // f(x) = x
	ReLU                        // f(x) = max(0, x)
	Sigmoid                     // f(x) = 1 / (1 + e^-x)
	Tanh                        // f(x) = tanh(x)
	LeakyReLU                   // f(x) = x if x > 0, else LeakySlope·x
	ELU                         // f(x) = x if x > 0, else e^x - 1
)

// LeakySlope is LeakyReLU's slope for negative inputs (PyTorch's default).
const LeakySlope = 0.01

var activationNames = [...]string{Linear: "linear", ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh", LeakyReLU: "leaky_relu", ELU: "elu"}

// String returns the activation's name as stored in model files.
func (a Activation) String() string {
	if int(a) < len(activationNames) {
		return activationNames[a]
	}
	return fmt.Sprintf("Activation(%d)", uint8(a))
}

// Valid reports whether a is one of the defined activations.
func (a Activation) Valid() bool { return int(a) < len(activationNames) }

// ParseActivation returns the activation named s ("linear", "relu",
// "sigmoid", "tanh", "leaky_relu" or "elu").
func ParseActivation(s string) (Activation, error) {
	for i, n := range activationNames {
		if n == s {
			return Activation(i), nil
		}
	}
	return 0, fmt.Errorf("infer: unknown activation %q (want linear, relu, sigmoid, tanh, leaky_relu or elu)", s)
}

// Apply replaces every element of x with f(x).
func (a Activation) Apply(x []float32) {
	switch a {
	case ReLU:
		for i, v := range x {
			if v < 0 {
				x[i] = 0
			}
		}
	case Sigmoid:
		for i, v := range x {
			x[i] = sigmoid(v)
		}
	case Tanh:
		for i, v := range x {
			x[i] = float32(math.Tanh(float64(v)))
		}
	case LeakyReLU:
		for i, v := range x {
			if v < 0 {
				x[i] = LeakySlope * v
			}
		}
	case ELU:
		for i, v := range x {
			if v < 0 {
				x[i] = float32(math.Expm1(float64(v)))
			}
		}
	}
}

// Derivative returns f'(x) expressed through the activation's output
// y = f(x), which is what backpropagation keeps.
func (a Activation) Derivative(y float32) float32 {
	switch a {
	case ReLU:
		if y > 0 {
			return 1
		}
		return 0
	case Sigmoid:
		return y * (1 - y)
	case Tanh:
		return 1 - y*y
	case LeakyReLU:
		if y > 0 {
			return 1
		}
		return LeakySlope
	case ELU:
		if y > 0 {
			return 1
		}
		return y + 1 // d/dx (e^x - 1) = e^x = y + 1
	}
	return 1
}

func sigmoid(v float32) float32 {
	// Split by sign so exp never overflows.
	if v >= 0 {
		return float32(1 / (1 + math.Exp(-float64(v))))
	}
	e := math.Exp(float64(v))
	return float32(e / (1 + e))
}
