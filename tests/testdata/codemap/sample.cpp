#include <string>
#include "shape.hpp"

namespace geometry {

class Shape {
public:
    virtual ~Shape() = default;
    virtual double area() const = 0;
    std::string name() const { return name_; }

private:
    std::string name_;
};

struct Circle : public Shape {
    explicit Circle(double r) : r_(r) {}
    double area() const override;
    double r_;
};

double Circle::area() const {
    return 3.14159 * r_ * r_;
}

template <typename T>
T clamp(T value, T low, T high) {
    return value < low ? low : (value > high ? high : value);
}

enum class Color { Red, Green };

}  // namespace geometry
